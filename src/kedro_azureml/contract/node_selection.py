"""How a step's command names the nodes it runs: by name, or, for many, by a short reference.

A step's command runs as ``bash -c <command>``, one argument, and Linux refuses any single
argument over 128 KiB (``MAX_ARG_STRLEN``): a namespace of 2800 nodes spelled out as
``--node`` options was 131 KB. So the compiler names the nodes of a large step with
``--nodes REF``, where REF is a bitmap over the pipeline's node names in sorted order,
compressed (a namespace sorts together, so its bits are one run), with a digest of those
names in front. The step recomputes the sorted names from the pipeline it loads (the same
code as compiled, in the code upload and the docker image flow alike: nothing to upload),
and refuses to run when the digest differs, so it never runs other nodes than compiled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Iterable

from kedro_azureml.errors import KedroAzureMLError

NAMES_BUDGET = 4096
"""Above this many characters of ``--node`` options, a step names its nodes by reference."""


def _digest(sorted_names: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted_names).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def encode_node_selection(pipeline_nodes: Iterable[str], chosen: Iterable[str]) -> str:
    """``<digest>:<base64 of the zlib'd bitmap>``; only ``[0-9a-zA-Z_-:]``, so never quoted."""
    names = sorted(pipeline_nodes)
    position = {name: index for index, name in enumerate(names)}
    bits = bytearray((len(names) + 7) // 8)
    for name in chosen:
        index = position[name]
        bits[index // 8] |= 1 << (index % 8)
    payload = base64.urlsafe_b64encode(zlib.compress(bytes(bits), 9)).rstrip(b"=").decode()
    return f"{_digest(names)}:{payload}"


def decode_node_selection(pipeline_name: str, pipeline_nodes: Iterable[str], ref: str) -> list[str]:
    """The node names ``ref`` selects among ``pipeline_nodes``, in sorted order."""
    names = sorted(pipeline_nodes)
    digest, _, payload = ref.partition(":")
    try:
        bits = zlib.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError, zlib.error) as exc:
        raise KedroAzureMLError(f"--nodes {ref!r} is not a node reference: {exc}.") from None
    if digest != _digest(names) or len(bits) != (len(names) + 7) // 8:
        raise KedroAzureMLError(
            f"This step was compiled for a pipeline '{pipeline_name}' with other nodes than "
            f"the {len(names)} it has here (node list digest {digest}, here {_digest(names)}): "
            "the step runs other code than was compiled. Compile the job again from the code "
            "the steps run (in the docker image flow: rebuild and push the image)."
        )
    return [name for index, name in enumerate(names) if bits[index // 8] >> (index % 8) & 1]
