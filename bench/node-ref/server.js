// The reference that `saigai-vc bench board` measures the board's fan-out against: the
// smallest `ws` broadcast server that speaks the same wire as the board. No database, no
// authentication, no sequence bookkeeping: whatever saigai-vc spends beyond this is the price
// of committing each event durably before it is sent.
//
// Usage: node server.js PORT   (listens on 127.0.0.1:PORT)
//   GET  /healthz                              -> 200, for the bench's readiness check
//   GET  /ws/board?...                         -> websocket; query and auth are ignored
//   POST /api/activations/1/announcements      -> broadcast {"text"} to every terminal, 201

'use strict';

const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || process.env.PORT || 8090);

// Wall-clock time with microseconds, in the board's format (RFC 3339, UTC, six decimals).
// Date.now() has only milliseconds; timeOrigin + now() is the wall clock at process start
// plus a monotonic offset, which is what the saigai-vc clock reading amounts to over a run.
function nowIsoMicros() {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // 2024-01-01T00:00:00.123Z
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`;
}

let seq = 0;

// With a length, so the answer is not chunked and the connection can close right after it.
function reply(res, status, body) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    reply(res, 200, '{"status":"ok"}');
    return;
  }
  if (req.method === 'POST' && req.url === '/api/activations/1/announcements') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let text;
      try {
        text = JSON.parse(Buffer.concat(chunks).toString('utf8')).text;
      } catch {
        reply(res, 422, '{"error":"invalid JSON"}');
        return;
      }
      seq += 1;
      const message = {
        type: 'announcement_posted',
        seq,
        at: nowIsoMicros(),
        data: { text },
      };
      // Serialised once; every terminal is sent the same buffer.
      const frame = Buffer.from(JSON.stringify(message));
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) {
          client.send(frame, { binary: false });
        }
      }
      reply(res, 201, JSON.stringify({ seq }));
    });
    return;
  }
  reply(res, 404, '{"error":"not found"}');
});

const wss = new WebSocketServer({ server, path: '/ws/board', perMessageDeflate: false });
const snapshot = Buffer.from(JSON.stringify({ type: 'snapshot', seq: 0, data: {} }));
wss.on('connection', (socket) => {
  socket.on('error', () => {});
  socket.send(snapshot, { binary: false });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`node-ref listening on 127.0.0.1:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
