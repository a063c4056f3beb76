// Runs inside a test sandbox: HTTP on 0.0.0.0:3000 (hello, streaming echo, big download, WebSocket echo) and a raw
// TCP echo on 127.0.0.1:4000 (reachable only from inside the guest: the tunnel's loopback case).
const http = require('http'), net = require('net'), crypto = require('crypto');
const server = http.createServer((req, res) => {
  if (req.url === '/hello') {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from the guest; host=${req.headers.host} xff=${req.headers['x-forwarded-for']}\n`);
  } else if (req.url === '/echo') {
    res.writeHead(200, {'content-type': 'application/octet-stream'});
    req.pipe(res);
  } else if (req.url.startsWith('/big/')) {
    let left = Number(req.url.slice(5));
    res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': left});
    const chunk = Buffer.alloc(65536, 'x');
    const more = () => {
      while (left > 0) {
        const piece = chunk.subarray(0, Math.min(left, chunk.length));
        left -= piece.length;
        if (!res.write(piece)) { res.once('drain', more); return; }
      }
      res.end();
    };
    more();
  } else {
    res.writeHead(404);
    res.end('no such page\n');
  }
});
server.on('upgrade', (req, sock, head) => {
  const accept = crypto.createHash('sha1')
    .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const onData = (data) => {
    buf = Buffer.concat([buf, data]);
    for (;;) {
      if (buf.length < 2) return;
      const op = buf[0] & 15;
      let len = buf[1] & 127, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const masked = (buf[1] & 128) !== 0;
      if (buf.length < off + (masked ? 4 : 0) + len) return;
      const mask = masked ? buf.subarray(off, off + 4) : null;
      if (masked) off += 4;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (mask) for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
      buf = buf.subarray(off + len);
      const header = len < 126 ? Buffer.from([128 | op, len]) : Buffer.from([128 | op, 126, len >> 8, len & 255]);
      sock.write(Buffer.concat([header, payload]));
      if (op === 8) { sock.end(); return; }
    }
  };
  sock.on('data', onData);
  onData(head);
});
server.listen(3000, '0.0.0.0');
net.createServer((s) => s.pipe(s)).listen(4000, '127.0.0.1');
