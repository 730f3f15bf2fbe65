/**
 * A real Redis Cluster for the scale-out tests (DRPC_TEST_REDIS=cluster): three masters on free
 * ports of 127.0.0.1, no replicas, nothing saved, joined with `redis-cli --cluster create` (Debian's
 * redis-tools, installed with redis-server). Stopped by their PIDs; their node files live in a
 * temporary directory removed on stop.
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

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'drpc-redis-cluster-'));
    const node = (port: number) => ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir];
    const servers: RedisServer[] = [];
    const cluster = new RedisCluster(servers, dir);
    try {
      for (let i = 0; i < masters; i++) servers.push(await RedisServer.start(node));
      const cli = process.env.REDIS_CLI ?? 'redis-cli';
      const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
      await promisify(execFile)(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 20_000,
      });
      for (const end = Date.now() + 10_000; !(await cluster.#ok()); await new Promise((r) => setTimeout(r, 50)))
        if (Date.now() > end) throw new Error('the Redis Cluster did not reach cluster_state:ok within 10 s');
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

  /** Every node says the cluster is ok (all slots served). */
  async #ok(): Promise<boolean> {
    const infos = await Promise.all(this.servers.map((s) => s.command('CLUSTER', 'INFO').catch(() => '')));
    return infos.every((i) => i.includes('cluster_state:ok'));
  }
}
