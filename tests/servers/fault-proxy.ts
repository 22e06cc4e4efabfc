/**
 * An HTTP proxy on a free loopback port in front of a real server (MinIO), that answers chosen
 * requests with a fault instead of forwarding them: S3's 503 SlowDown, a 500, a dropped
 * connection, or no answer at all (hang: the client waits until it gives up or is killed). The Host header is passed through unchanged, so SigV4 signatures stay valid.
 * It counts what it saw, so tests can show that the client retried, and what it uploaded.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export interface Fault {
  /** Which requests: method and a test on the path with query. */
  method?: string;
  match?: (pathAndQuery: string) => boolean;
  /** Only requests whose User-Agent matches (e.g. /hadoop/i: Spark's S3A, not the submitter). */
  agent?: RegExp;
  /** How many matching requests get the fault (Infinity: all). */
  times: number;
  status: 503 | 500 | "drop" | "hang";
}

export interface SeenRequest {
  method: string;
  path: string;
  status: number | "dropped" | "hung";
  /** The client's User-Agent: which S3 client sent it (the AWS SDK for JavaScript, Hadoop S3A, ...). */
  agent: string;
}

export interface FaultProxy {
  endpoint: string;
  seen: SeenRequest[];
  inject(fault: Fault): void;
  clear(): void;
  stop(): Promise<void>;
}

const SLOW_DOWN = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`;
const INTERNAL = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const faults: Fault[] = [];
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = req.url ?? "/";
    const agent = String(req.headers["user-agent"] ?? "");
    const fault = faults.find((f) => f.times > 0 && (!f.method || f.method === req.method) && (!f.match || f.match(path)) && (!f.agent || f.agent.test(agent)));
    if (fault) {
      fault.times--;
      req.resume();
      if (fault.status === "drop") {
        seen.push({ method: req.method!, path, status: "dropped", agent });
        req.socket.destroy();
        return;
      }
      if (fault.status === "hang") {
        seen.push({ method: req.method!, path, status: "hung", agent });
        return;
      }
      seen.push({ method: req.method!, path, status: fault.status, agent });
      res.writeHead(fault.status, { "Content-Type": "application/xml" });
      res.end(fault.status === 503 ? SLOW_DOWN : INTERNAL);
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers },
      (up) => {
        seen.push({ method: req.method!, path, status: up.statusCode ?? 0, agent });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    inject: (fault) => faults.push({ ...fault }),
    clear: () => {
      faults.length = 0;
      seen.length = 0;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
