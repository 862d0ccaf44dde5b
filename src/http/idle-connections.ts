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
  const inFlight = new Map<Socket, number>();

  server.on('connection', (socket: Socket) => {
    idleSince.set(socket, Date.now());
    socket.once('close', () => { idleSince.delete(socket); inFlight.delete(socket); });
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    idleSince.delete(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (left > 0) { inFlight.set(socket, left); return; }
      inFlight.delete(socket);
      if (!socket.destroyed) idleSince.set(socket, Date.now());
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
