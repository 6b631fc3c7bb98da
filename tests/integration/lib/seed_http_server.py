#!/usr/bin/env python3
"""A cache server speaking the seed's protocol (waf's wafcache.py, class netcache):
GET /<path> returns the file stored there, POST /<path> stores the multipart field "file",
whose filename must be "<sig>/<i>", the last two components of the path. No HEAD (the
client must fall back to GET), no DELETE. Fault modes for tests:
  --mode hang      accept connections and never answer
  --mode 500       answer every request with status 500
  --mode truncate  answer GET of an entry's output file (a name of digits) with a
                   Content-Length larger than the body, then hang up; other files are served
  --mode garbage   answer GET of an entry's output file with other bytes of the same length
  --mode slow      wait --delay seconds before storing each POST (for async uploads)
  --mode huge      answer GET of an entry's output file with a Content-Length of 1 GiB and
                   stream zeros until the client hangs up
  --mode endless   answer GET of an entry's output file with a chunked body that never ends
The port (bound on 127.0.0.1, chosen by the system) is written to --port-file."""
import argparse
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def multipart_file(ctype, body):
    """(filename, data) of the part named "file"; None when absent."""
    marker = 'boundary='
    if marker not in ctype:
        return None
    boundary = ctype.split(marker, 1)[1].split(';')[0].strip().strip('"').encode()
    for part in body.split(b'--' + boundary)[1:-1]:
        head, _, data = part.partition(b'\r\n\r\n')
        head = head.decode('utf-8', 'replace')
        if 'name="file"' not in head:
            continue
        name = head.split('filename="', 1)[1].split('"', 1)[0] if 'filename="' in head else ''
        return name, data[:-2] if data.endswith(b'\r\n') else data
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive, as the client reuses its connection
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms stalls

    def log_message(self, *args):
        pass

    def reply(self, code, body=b''):
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def local_path(self):
        rel = os.path.normpath(self.path.split('?', 1)[0]).lstrip('/')
        if rel.startswith('..'):
            return None
        return os.path.join(self.server.root, rel)

    def output_file(self):
        return self.path.rstrip('/').split('/')[-1].isdigit()

    def truncated(self, path):
        data = b'only a few bytes'
        size = 100000
        if path and os.path.isfile(path):
            with open(path, 'rb') as f:
                data = f.read()
            size = len(data)
            data = data[:len(data) // 2]
        self.send_response(200)
        self.send_header('Content-Length', str(max(size, len(data) + 1)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def stream_zeros(self, chunked):
        """Zeros as fast as the client takes them, until it hangs up (or 1 GiB)."""
        self.send_response(200)
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
        else:
            self.send_header('Content-Length', str(1 << 30))
        self.end_headers()
        block = bytes(1 << 20)
        frame = b'%x\r\n%s\r\n' % (len(block), block) if chunked else block
        self.close_connection = True
        try:
            for _ in range(1 << 10) if not chunked else iter(int, 1):
                self.wfile.write(frame)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        path = self.local_path()
        if self.server.mode == 'truncate' and self.output_file():
            return self.truncated(path)
        if self.server.mode in ('huge', 'endless') and self.output_file():
            return self.stream_zeros(self.server.mode == 'endless')
        if not path or not os.path.isfile(path):
            return self.reply(404, b'not found\n')
        with open(path, 'rb') as f:
            data = f.read()
        if self.server.mode == 'garbage' and self.output_file():
            data = bytes(b ^ 0x5a for b in data)
        self.reply(200, data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        path = self.local_path()
        got = multipart_file(self.headers.get('Content-Type', ''), body)
        want = '/'.join(self.path.rstrip('/').split('/')[-2:])
        if not path or not got or got[0] != want:
            return self.reply(400, b'expected a multipart field "file" named %s\n' % want.encode())
        if self.server.mode == 'slow':
            time.sleep(self.server.delay)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = '%s.tmp.%d' % (path, os.getpid())
        with open(tmp, 'wb') as f:
            f.write(got[1])
        os.replace(tmp, path)
        self.reply(200, b'ok\n')


class FaultHandler(Handler):
    def handle(self):
        if self.server.mode == 'hang':
            time.sleep(3600)
            return
        super().handle()

    def handle_one_request(self):
        if self.server.mode != '500':
            return super().handle_one_request()
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        self.rfile.read(int(self.headers.get('Content-Length', '0')))
        self.reply(500, b'internal error\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--root', required=True)
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--mode', default='ok',
                    choices=['ok', 'hang', '500', 'truncate', 'garbage', 'slow', 'huge', 'endless'])
    ap.add_argument('--delay', type=float, default=1.0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(('127.0.0.1', 0), FaultHandler)
    server.daemon_threads = True
    server.root, server.mode, server.delay = args.root, args.mode, args.delay
    tmp = args.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == '__main__':
    main()
