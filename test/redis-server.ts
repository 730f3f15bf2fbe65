/**
 * A real redis-server for the scale-out tests: started on a free port of 127.0.0.1, nothing saved to
 * disk, stopped by its PID. `stop()` and `start()` again on the same port simulate an outage (the
 * data is gone when it comes back, as after a restart without persistence).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { writeFileSync } from 'node:fs';

export class RedisServer {
  #child?: ChildProcess;
  #exited?: Promise<void>;

  private constructor(
    readonly port: number,
    /** More redis-server arguments (a cluster node's). */
    private readonly extra: string[] = [],
    /** A config file, which redis-server takes first only (a Sentinel's, which it also writes to). */
    private readonly config?: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(extra: (port: number) => string[] = () => []): Promise<RedisServer> {
    const port = await freePort();
    const server = new RedisServer(port, extra(port));
    await server.start();
    return server;
  }

  /** A Sentinel that monitors `master` as `name` (quorum 1); its config file is written to `config`. */
  static async sentinel(master: RedisServer, name: string, config: string): Promise<RedisServer> {
    writeFileSync(config, `sentinel monitor ${name} 127.0.0.1 ${master.port} 1\n`);
    const server = new RedisServer(await freePort(), ['--sentinel'], config);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const args = [
      ...(this.config ? [this.config] : []),
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
      ...this.extra,
    ];
    const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const orphan = () => child.kill('SIGKILL'); // never outlive the test process
    process.once('exit', orphan);
    child.once('exit', () => process.off('exit', orphan));
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`redis-server could not start (apt-get install redis-server): ${err.message}`)));
    });
    await spawned;
    const end = Date.now() + 5000;
    while (!(await this.#pong())) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`redis-server on port ${this.port} did not answer PING: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 2 s) and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Sends one command (inline form) and returns the raw reply. */
  command(...words: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1');
      let reply = '';
      socket.setTimeout(2000, () => socket.destroy(new Error(`redis ${words[0]}: no reply`)));
      socket.on('data', (d) => {
        reply += d.toString();
        if (reply.endsWith('\r\n')) socket.end();
      });
      socket.on('end', () => resolve(reply));
      socket.on('error', reject);
      socket.write(words.join(' ') + '\r\n');
    });
  }

  async #pong(): Promise<boolean> {
    try {
      return (await this.command('PING')).startsWith('+PONG');
    } catch {
      return false;
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
