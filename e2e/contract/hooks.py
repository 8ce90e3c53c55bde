"""schemathesis hooks for run.py (loaded through SCHEMATHESIS_HOOKS=hooks).

Application archives are sent as `application/gzip`, which schemathesis cannot build from a
schema: this strategy gives it gzip-compressed tars with a `steward.json` of fuzzed fields, plain
gzip of random bytes, and random bytes that are not gzip at all.
"""

import ast
import gzip
import io
import json
import tarfile
import threading

import schemathesis
from hypothesis import strategies as st

# CPython 3.11 (Debian's, here and in CI) turns a parsed tree into Python objects with one
# recursion counter per interpreter, not per thread: two workers parsing at once (hypothesis
# reads the source of every lambda in a strategy) fail now and then with "SystemError: AST
# constructor recursion depth mismatch" (python/cpython#106905), which schemathesis reports as an
# error of the operation being tested. One parse at a time in this process.
_parse = ast.parse
_parsing = threading.Lock()


def _serialised_parse(*args, **kwargs):
    with _parsing:
        return _parse(*args, **kwargs)


ast.parse = _serialised_parse


def bundle(manifest: dict) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("steward.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue())


manifests = st.fixed_dictionaries(
    {"name": st.text(min_size=0, max_size=40), "version": st.sampled_from(["1.0.0", "0.1", "", "not-a-version"])},
    optional={"description": st.text(max_size=80)},
)

schemathesis.openapi.media_type(
    "application/gzip",
    st.one_of(manifests.map(bundle), st.binary(max_size=256).map(gzip.compress), st.binary(max_size=256)),
)
