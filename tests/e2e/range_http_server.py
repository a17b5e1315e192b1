#!/usr/bin/env python3
"""A static file server for the tests: directory listings as HTML and single byte ranges
(206 with Content-Range, 416 past the end), which Python's http.server does not do.

    range_http_server.py --directory DIR --port-file FILE [--bind 127.0.0.1] [--port 0]

It listens on a free port (or --port), writes the port number to FILE once it accepts
connections, and logs one line per request to stderr.
"""
import argparse
import functools
import http.server
import io
import os
import re
import sys

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Handler(http.server.SimpleHTTPRequestHandler):
    def send_head(self):
        path = self.translate_path(self.path)
        header = self.headers.get("Range")
        if header is None or os.path.isdir(path):
            return super().send_head()
        match = RANGE.match(header.strip())
        if not match or (not match.group(1) and not match.group(2)):
            return super().send_head()  # several ranges or a bad one: the whole file
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(404, "File not found")
            return None
        with f:
            size = os.fstat(f.fileno()).st_size
            if match.group(1):
                first = int(match.group(1))
                last = int(match.group(2)) if match.group(2) else size - 1
            else:
                first = max(0, size - int(match.group(2)))
                last = size - 1
            if first >= size or last < first:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            last = min(last, size - 1)
            f.seek(first)
            body = f.read(last - first + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, size))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, fmt % args))
        sys.stderr.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--directory", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    handler = functools.partial(Handler, directory=args.directory)
    server = http.server.ThreadingHTTPServer((args.bind, args.port), handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
