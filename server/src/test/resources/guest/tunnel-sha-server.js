// Tunnel test server (InteractiveApiTest): per connection, sends SIZE bytes while hashing what it receives; once
// the client half-closed (its FIN seen as 'end') and the sending is done, it writes
// "<sha256 of sent> <sha256 of received>\n" and half-closes itself. Usage: node tunnel-sha-server.js SIZE PORT
const net = require('net');
const crypto = require('crypto');
const size = parseInt(process.argv[2], 10);
const port = parseInt(process.argv[3], 10);
const block = crypto.randomBytes(1 << 20);
net.createServer({ allowHalfOpen: true }, (sock) => {
  const got = crypto.createHash('sha256');
  const sent = crypto.createHash('sha256');
  let remaining = size;
  let offset = 0;
  let sendDone = false;
  let recvDone = false;
  const finish = () => {
    if (sendDone && recvDone) {
      sock.end(sent.digest('hex') + ' ' + got.digest('hex') + '\n');
    }
  };
  sock.on('data', (d) => got.update(d));
  sock.on('end', () => { recvDone = true; finish(); });
  sock.on('error', (e) => console.error('connection failed:', e.message));
  const pump = () => {
    while (remaining > 0) {
      const n = Math.min(64 * 1024, remaining, block.length - offset);
      const piece = block.subarray(offset, offset + n);
      offset = (offset + n) % block.length;
      sent.update(piece);
      remaining -= n;
      if (!sock.write(piece)) {
        sock.once('drain', pump);
        return;
      }
    }
    sendDone = true;
    finish();
  };
  pump();
}).listen(port, '127.0.0.1', () => console.log('listening on ' + port));
