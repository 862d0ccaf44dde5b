/**
 * Closes keep-alive connections that stay idle longer than `idleMs`, in place of Node's own
 * keepAliveTimeout. Node checks that timeout in the timers phase, before the poll phase reads what
 * has arrived: after the event loop was blocked for longer than the timeout (a SQLite schema change
 * rewriting a large table runs on the main thread), it resets connections whose next request is
 * already waiting in the socket (nodejs/node#43456), and the client sees ECONNRESET. This sweep
 * skips its round after such a stall, so that waiting requests are read first.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function closeIdleConnections(server: Server, idleMs: number): () => void {
  server.keepAliveTimeout = 0;
  const sweepMs = Math.max(50, Math.min(1000, Math.floor(idleMs / 4)));
  const idleSince = new Map<Socket, number>();
  /** requests in flight per connection (pipelined ones included), on the socket itself: no map lookups per request */
  const inFlight = new WeakMap<Socket, { count: number }>();

  server.on('connection', (socket: Socket) => {
    idleSince.set(socket, Date.now());
    inFlight.set(socket, { count: 0 });
    socket.once('close', () => idleSince.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    const requests = inFlight.get(socket);
    if (requests === undefined) return;
    if (requests.count++ === 0) idleSince.delete(socket);
    res.once('close', () => {
      if (--requests.count > 0 || socket.destroyed) return;
      idleSince.set(socket, Date.now());
    });
  });

  let lastSweep = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const stalled = now - lastSweep > 2 * sweepMs;
    lastSweep = now;
    if (stalled) return;
    for (const [socket, since] of idleSince) {
      if (now - since < idleMs) continue;
      idleSince.delete(socket);
      socket.destroy();
    }
  }, sweepMs);
  timer.unref();
  return () => clearInterval(timer);
}
