"""schemathesis hooks for run.py (loaded through SCHEMATHESIS_HOOKS=hooks).

Application archives are sent as `application/gzip`, which schemathesis cannot build from a
schema: this strategy gives it gzip-compressed tars with a `steward.json` of fuzzed fields, plain
gzip of random bytes, and random bytes that are not gzip at all.
"""

import gzip
import io
import json
import tarfile

import schemathesis
from hypothesis import strategies as st


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
