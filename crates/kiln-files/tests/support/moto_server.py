"""moto's S3 server for kiln-files' tests: `python3 moto_server.py -H 127.0.0.1 -p PORT`.

The same as `python3 -m moto.server`, with one correction to moto's request authentication.
moto checks a SigV4 signature by recomputing it with botocore, but from the request URL as
werkzeug rebuilds it: percent-decoded and re-quoted with its own safe characters. Real S3 signs
the request target as S3 does: the path and each query name and value percent-decoded, then
encoded again the SigV4 way (RFC 3986, only `A-Za-z0-9-._~` left as is, `/` kept in the path).
With moto's rebuilt URL, a correctly signed request whose key or query holds characters such as
`+ $ & = ;` or `%2F` fails with SignatureDoesNotMatch (boto3's own requests too). Here the raw
request target (werkzeug's RAW_URI) is canonicalised as S3 does instead, so a request passes
exactly when S3 would accept its signature. If moto's internals ever change so that this cannot
apply, the server still starts, unpatched, and says so on stderr.
"""

import sys
from urllib.parse import quote, unquote


def _canonical_target(raw):
    path, _, query = raw.partition("?")
    path = quote(unquote(path), safe="/~")
    if not query:
        return path
    params = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        params.append(quote(unquote(name), safe="~") + "=" + quote(unquote(value), safe="~"))
    return path + "?" + "&".join(sorted(params))


def _use_raw_request_target():
    try:
        from flask import request
        from moto.iam import access_control
    except Exception as e:  # pragma: no cover - depends on the installed moto
        sys.stderr.write(f"kiln moto_server: raw-URI patch not applied: {e}\n")
        return
    base = getattr(access_control, "IAMRequestBase", None)
    if base is None or not hasattr(base, "__init__"):
        sys.stderr.write("kiln moto_server: raw-URI patch not applied: no IAMRequestBase\n")
        return
    original_init = base.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        try:
            raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        except Exception:
            raw = None
        if raw and hasattr(self, "_path"):
            self._path = _canonical_target(raw)

    base.__init__ = __init__


_use_raw_request_target()

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
