/**
 * A real Redis Cluster for the scale-out tests (DRPC_TEST_REDIS=cluster): three masters on free
 * ports of 127.0.0.1 (and, when asked, a replica each), nothing saved, joined with `redis-cli
 * --cluster create` (Debian's redis-tools, installed with redis-server). `failover(key)` promotes the
 * replica of the shard that holds a key, as CLUSTER FAILOVER does in production. Stopped by their
 * PIDs; their node files live in a temporary directory removed on stop.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisServer } from './redis-server.ts';

export class RedisCluster {
  private constructor(
    readonly servers: RedisServer[],
    private readonly dir: string,
  ) {}

  /** The startup nodes for ioredis's Cluster (any one would do). */
  get nodes(): { host: string; port: number }[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  static async start(masters = 3, replicas = 0): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'drpc-redis-cluster-'));
    const node = (port: number) => ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir];
    const servers: RedisServer[] = [];
    const cluster = new RedisCluster(servers, dir);
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) servers.push(await RedisServer.start(node));
      const cli = process.env.REDIS_CLI ?? 'redis-cli';
      const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
      await promisify(execFile)(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], {
        timeout: 20_000,
      });
      for (const end = Date.now() + 30_000; !(await cluster.#ok(masters * replicas)); await new Promise((r) => setTimeout(r, 50)))
        if (Date.now() > end) throw new Error('the Redis Cluster did not reach cluster_state:ok (with its replicas) within 30 s');
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Promotes the replica of the shard holding `key` (CLUSTER FAILOVER on it, a planned failover) and
   * resolves once it serves as master.
   */
  async failover(key: string): Promise<void> {
    const slot = Number((await this.#cli(this.servers[0]!.port, 'CLUSTER', 'KEYSLOT', key)).trim());
    const nodes = (await this.#cli(this.servers[0]!.port, 'CLUSTER', 'NODES'))
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const owns = (f: string[]) =>
      f[2]!.includes('master') &&
      f.slice(8).some((r) => {
        const [from, to = from] = r.split('-').map(Number);
        return slot >= from! && slot <= to!;
      });
    const master = nodes.find(owns);
    const replica = master && nodes.find((f) => f[3] === master[0]);
    if (!replica) throw new Error(`no replica for the shard of ${key} (slot ${slot})`);
    const port = Number(replica[1]!.split(':')[1]!.split('@')[0]);
    // A manual failover waits for the replica to be in step with its master: wait for its link first.
    for (
      const end = Date.now() + 10_000;
      !(await this.#cli(port, 'INFO', 'replication')).includes('master_link_status:up');
      await new Promise((r) => setTimeout(r, 50))
    )
      if (Date.now() > end) throw new Error(`the replica on port ${port} did not link to its master within 10 s`);
    await this.#cli(port, 'CLUSTER', 'FAILOVER');
    for (
      const end = Date.now() + 10_000;
      !(await this.#cli(port, 'ROLE')).startsWith('master');
      await new Promise((r) => setTimeout(r, 50))
    )
      if (Date.now() > end) throw new Error(`the replica on port ${port} did not become master within 10 s`);
  }

  /** Every node says the cluster is ok (all slots served), and `replicas` replicas have joined. */
  async #ok(replicas: number): Promise<boolean> {
    const infos = await Promise.all(this.servers.map((s) => s.command('CLUSTER', 'INFO').catch(() => '')));
    if (!infos.every((i) => i.includes('cluster_state:ok'))) return false;
    return !replicas || ((await this.#cli(this.servers[0]!.port, 'CLUSTER', 'NODES')).match(/slave/g) ?? []).length >= replicas;
  }

  /** One command to the cluster, following its redirects (`redis-cli -c`); the reply as redis-cli prints it, trimmed. */
  async call(...command: string[]): Promise<string> {
    return (await this.#cli(this.servers[0]!.port, '-c', ...command)).trim();
  }

  async #cli(port: number, ...command: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(process.env.REDIS_CLI ?? 'redis-cli', ['-p', String(port), ...command], { timeout: 5000 });
    return stdout;
  }
}
