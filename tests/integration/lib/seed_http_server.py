#!/usr/bin/env python3
"""A cache server speaking the seed's protocol (waf's wafcache.py, class netcache):
GET /<path> returns the file stored there, POST /<path> stores the multipart field "file",
whose filename must be "<sig>/<i>", the last two components of the path. No HEAD (the
client must fall back to GET), no DELETE. Fault modes for tests:
  --mode hang      accept connections and never answer
  --mode 500       answer every request with status 500
  --mode truncate  answer GET with a Content-Length larger than the body, then hang up
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

    def do_GET(self):
        if self.server.mode == 'truncate':
            self.send_response(200)
            self.send_header('Content-Length', '100000')
            self.end_headers()
            self.wfile.write(b'only a few bytes')
            self.close_connection = True
            return
        path = self.local_path()
        if not path or not os.path.isfile(path):
            return self.reply(404, b'not found\n')
        with open(path, 'rb') as f:
            self.reply(200, f.read())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
        path = self.local_path()
        got = multipart_file(self.headers.get('Content-Type', ''), body)
        want = '/'.join(self.path.rstrip('/').split('/')[-2:])
        if not path or not got or got[0] != want:
            return self.reply(400, b'expected a multipart field "file" named %s\n' % want.encode())
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
    ap.add_argument('--mode', default='ok', choices=['ok', 'hang', '500', 'truncate'])
    args = ap.parse_args()
    server = ThreadingHTTPServer(('127.0.0.1', 0), FaultHandler)
    server.daemon_threads = True
    server.root, server.mode = args.root, args.mode
    tmp = args.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == '__main__':
    main()
