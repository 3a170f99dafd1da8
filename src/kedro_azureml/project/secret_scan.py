"""Secrets in the code snapshot, found by file name and by content, before anything goes up.

Three checks run on exactly the files that would be uploaded (``snapshot.scan_code_directory``):

- names: credentials files, ``.env``, private keys, ``conf/local``... (a symlink is judged by its
  own name and by its target's);
- shapes: every text file is read in full, in chunks, for well-known secret shapes (Azure
  storage keys and connection strings, SAS signatures, AWS keys, private key blocks, bearer
  tokens and JWTs, GitHub/Slack tokens, passwords in URLs, high-entropy values assigned to names
  like ``password``/``secret``/``token``);
- known values: every file, binary ones too, is searched for the secrets this run knows (the
  storage account key, the connection string, ``AZURE_CLIENT_SECRET``...).

A team accepts a known false positive of the first two with an inline ``pragma: allowlist
secret`` comment (on the line, or ``pragma: allowlist nextline secret`` on the line before, as
detect-secrets reads them), a detect-secrets ``.secrets.baseline``, or gitignore-style patterns
of accepted files in ``.amlsecrets``. A known secret value is never accepted.

Why not detect-secrets itself: on the example project it took 5.4 s for 0.6 MB (its plugins run
per line in Python; about 6 s per MB, so a 200 MB tree would take 20 minutes). These regular
expressions run over whole chunks in C; ``benchmarks/secret_scan.py`` measures a 5000-file,
200 MB tree.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kedro_azureml.contract.storage_paths import SECRET_ENV_VARS
from kedro_azureml.project.snapshot import IgnoreRules, SnapshotManifest

# Matched case-insensitively: file names anywhere in the tree, and paths from the root.
SECRET_NAMES = (
    "*credentials*",
    ".env",
    "*.env",
    ".env.*",
    ".envrc",
    "*.pem",
    "*.pfx",
    "*.p12",
    "*.key",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*service_principal*",
    "*service-principal*",
    "*aws_config*",
    ".git-credentials",
    ".netrc",
    ".pgpass",
    ".pypirc",
    ".npmrc",
    "*kubeconfig*",
)
SECRET_PATHS = ("conf/local/*",)
# Variables whose values are secrets wherever they appear (the submitting machine's sign-in and
# storage credentials, and the usual tokens of other tools): looked for in every uploaded file
# and in every --env-var/--params value.
KNOWN_SECRET_ENV_VARS = (
    *SECRET_ENV_VARS,
    "AZURE_STORAGE_KEY",
    "ARM_CLIENT_SECRET",
    "AZURE_OPENAI_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "DATABRICKS_TOKEN",
    "HF_TOKEN",
    "OPENAI_API_KEY",
)
ALLOWLIST_FILE = ".amlsecrets"
BASELINE_FILE = ".secrets.baseline"
PRAGMA = b"pragma: allowlist secret"
NEXTLINE_PRAGMA = b"pragma: allowlist nextline secret"
# Azurite's published development key: in a project's config it is no secret.
AZURITE_KEY = (
    b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
MIN_KNOWN_SECRET = 8  # shorter "secrets" would match everywhere
CHUNK = 1 << 20
LONG_LINE = 4 << 20  # a line longer than this is scanned in overlapping pieces
OVERLAP = 8192
MAX_FINDINGS_PER_FILE = 20


def looks_like_secret(path: str) -> bool:
    lowered = path.lower()
    name = lowered.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_NAMES) or any(
        fnmatch.fnmatchcase(lowered, pattern) for pattern in SECRET_PATHS
    )


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    secret_sha1: str = field(default="", compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


@dataclass
class Allowlist:
    """What a team accepted: ``.amlsecrets`` file patterns and ``.secrets.baseline`` entries."""

    files: IgnoreRules = field(default_factory=lambda: IgnoreRules([]))
    baseline: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    @classmethod
    def for_directory(cls, root: Path) -> Allowlist:
        from kedro_azureml.errors import ConfigError

        allowlist = cls()
        patterns = root / ALLOWLIST_FILE
        if patterns.is_file():
            allowlist.files = IgnoreRules(patterns.read_text().splitlines(), ALLOWLIST_FILE)
        baseline = root / BASELINE_FILE
        if baseline.is_file():
            try:
                results = json.loads(baseline.read_text())["results"]
                allowlist.baseline = {
                    name: [(entry["hashed_secret"], int(entry["line_number"])) for entry in items]
                    for name, items in results.items()
                }
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(
                    f"{baseline} is not a detect-secrets baseline ({type(exc).__name__}: {exc}). "
                    "Regenerate it with `detect-secrets scan > .secrets.baseline`."
                ) from None
        return allowlist

    def accepts_file(self, rel: str) -> bool:
        return self.files.excluded(rel)

    def accepts(self, finding: Finding) -> bool:
        return any(
            (name == finding.path or name.endswith(f"/{finding.path}"))
            and any(h == finding.secret_sha1 or n == finding.line for h, n in entries)
            for name, entries in self.baseline.items()
        )


def suspicious_files(manifest: SnapshotManifest, allowlist: Allowlist | None = None) -> list[str]:
    """Files that look like secrets by name; a symlink is judged by its target's name too."""
    allowlist = allowlist or Allowlist()
    found = []
    for rel in manifest.files:
        names = [rel]
        target = manifest.link_targets.get(rel)
        if target is not None:
            try:
                names.append(target.relative_to(manifest.root.resolve()).as_posix())
            except ValueError:
                names.append(target.name)
        if any(looks_like_secret(name) for name in names) and not allowlist.accepts_file(rel):
            found.append(rel)
    return found


# Shapes ---------------------------------------------------------------------------------------
_IDENT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_PLACEHOLDER = re.compile(
    rb"[$<>{}()%\[\]]|^(?:x+|\*+|changeme|change_me|redacted|none|null)$", re.I
)
_PATH_LIKE = re.compile(rb"^(?:\.{0,2}/|~)|\.[A-Za-z0-9]{1,5}$|://")
# Names, not values: attribute references (creds.session_token) and snake_case identifiers.
_IDENTIFIER = re.compile(
    rb"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+"
)
_PLACEHOLDER_WORDS = frozenset({b"password", b"passwd", b"pass", b"secret", b"token", b"pwd"})


def _entropy(value: bytes) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _random_looking(value: bytes) -> bool:
    """Random enough to be a generated secret, not a name, a path or a placeholder."""
    if len(value) < 8 or _PLACEHOLDER.search(value) or _PATH_LIKE.search(value):
        return False
    if _IDENTIFIER.fullmatch(value) or (value.startswith(b"eyJ") and b"." not in value):
        return False  # a name, or base64 JSON such as a page token (real JWTs have dots)
    has_digit = any(48 <= c <= 57 for c in value)
    classes = sum(
        (
            any(97 <= c <= 122 for c in value),
            any(65 <= c <= 90 for c in value),
            has_digit,
            any(c not in _IDENT for c in value),
        )
    )
    entropy = _entropy(value)
    return (len(value) >= 16 and has_digit and entropy >= 3.5) or (classes >= 3 and entropy >= 3.0)


_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_TOKEN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_UPPER_DIGITS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
Valid = Callable[[bytes, bytes], bool]  # (the secret, the bytes before its match) -> report it


def _starts_token(charset: frozenset[int]) -> Valid:
    """The match starts a token: the byte before it is not one of ``charset``."""
    return lambda secret, before: not before or before[-1] not in charset


def _url_password(value: bytes) -> bool:
    """``user:<this>@host``: a password, not a placeholder like ``password`` or ``${PASS}``."""
    return (
        not _PLACEHOLDER.search(value)
        and value.lower() not in _PLACEHOLDER_WORDS
        and any(not (97 <= c <= 122 or 65 <= c <= 90) for c in value)
    )


Found = tuple[int, str, bytes]  # (offset of the finding, kind, the secret)


@dataclass(frozen=True)
class Detector:
    """One secret shape.

    A chunk without any of ``hints`` (a substring search, several GB/s) is not searched at all.
    Patterns start with a literal, which ``re`` finds quickly; what a look-behind would say is
    checked on the few matches instead (``valid``, or a whole ``extract`` of its own).
    """

    kind: str
    hints: tuple[bytes, ...]
    pattern: re.Pattern[bytes]
    valid: Valid | None = None
    lower: bool = False  # matched on the lower-cased text
    extract: Callable[[Detector, bytes, re.Match[bytes]], Found | None] | None = None

    def applies(self, data: bytes) -> bool:
        return any(hint in data for hint in self.hints)

    def found(self, data: bytes, match: re.Match[bytes]) -> Found | None:
        if self.extract is not None:
            return self.extract(self, data, match)
        secret = match.group(1 if self.pattern.groups else 0)
        before = data[max(0, match.start() - 16) : match.start()]
        if self.valid is None or self.valid(secret, before):
            return match.start(), self.kind, secret
        return None


def _d(
    kind: str,
    hints: bytes,
    regex: bytes,
    valid: Valid | None = None,
    *,
    lower: bool = False,
    extract: Callable[[Detector, bytes, re.Match[bytes]], Found | None] | None = None,
) -> Detector:
    return Detector(kind, tuple(hints.split(b"|")), re.compile(regex), valid, lower, extract)


_BASE64_64_BYTES = re.compile(rb"[A-Za-z0-9+/]{86}")
_GENERIC = "high-entropy value assigned to "


def _account_key(detector: Detector, data: bytes, match: re.Match[bytes]) -> Found | None:
    """The 88-character base64 value (64 bytes: an account key's size) ending in ``==``."""
    end = match.start()
    begin = end - 86
    if begin < 0 or not _BASE64_64_BYTES.fullmatch(data, begin, end):
        return None
    if (begin and data[begin - 1] in _B64) or data[max(0, begin - 7) : begin] == b"sha512-":
        return None
    value = data[begin : end + 2]
    return None if value == AZURITE_KEY else (begin, detector.kind, value)


def _assignment(detector: Detector, data: bytes, match: re.Match[bytes]) -> Found | None:
    """A random-looking value assigned to a name ending in a secret's keyword.

    ``match`` is on the lower-cased text: group 1 is the keyword that ends the name, group 2
    the value (offsets are the same in ``data``).
    """
    value = data[match.start(2) : match.end(2)]
    if not _random_looking(value) or value == AZURITE_KEY:
        return None
    start = match.start()
    while start > 0 and data[start - 1] in _IDENT:
        start -= 1
    name = data[start : match.end(1)]
    if match.group(1) == b"key" and not name.lower().endswith(_KEY_NAMES):
        return None
    text = name.decode("ascii", "replace")
    if "aws_secret_access_key" in text.lower():
        return start, "AWS secret access key", value
    return start, f"{_GENERIC}{text}", value


_KEY_NAMES = (
    b"apikey",
    b"api_key",
    b"api-key",
    b"accesskey",
    b"access_key",
    b"secretkey",
    b"secret_key",
    b"privatekey",
    b"private_key",
    b"accountkey",
    b"account_key",
    b"authkey",
    b"auth_key",
    b"subscriptionkey",
    b"subscription_key",
    b"masterkey",
    b"master_key",
    b"signingkey",
    b"signing_key",
    b"encryptionkey",
    b"encryption_key",
)
# After a name ending in a keyword: an optional closing quote, = or :, an optional opening quote.
_ASSIGNED = (
    rb"(?![a-z0-9_])(?:\\?[\"'])?[ \t]*(?::=|=>|=|:)[ \t]*(?:\\?[\"'])?([^\s\"'`,;)}\]#\\]{8,})"
)
DETECTORS = (
    _d(
        "Azure storage account key (AccountKey=)",
        b"AccountKey=",
        rb"AccountKey=([A-Za-z0-9+/]{20,}={0,2})",
        lambda secret, before: AZURITE_KEY not in secret,
    ),
    _d(
        "Azure shared access key (SharedAccessKey=)",
        b"SharedAccessKey=",
        rb"SharedAccessKey=([A-Za-z0-9+/]{20,}={0,2})",
    ),
    _d(
        "Azure SAS signature (sig=)",
        b"sig=",
        rb"sig=([A-Za-z0-9%+/]{20,}(?:=|%3[Dd]){0,2})",
        lambda secret, before: before[-1:] in (b"?", b"&", b";"),
    ),
    _d(
        "Azure storage account key",
        b"==",
        rb"==(?![A-Za-z0-9+/=])",  # the end of 64 bytes in base64; the 86 before are checked
        extract=_account_key,
    ),
    _d(
        "AWS access key ID",
        b"AKIA|ASIA|ABIA|ACCA",
        rb"A(?:KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Z0-9])",
        _starts_token(_UPPER_DIGITS),
    ),
    _d("private key", b"-----BEGIN", rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    _d(
        "JSON web token",
        b"eyJ",
        rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
        _starts_token(_TOKEN),
    ),
    _d(
        "bearer token",
        b"earer",
        rb"earer[ \t]+([A-Za-z0-9_~+/.-]{20,}=*)",
        lambda secret, before: before[-1:] in (b"B", b"b") and b"eyJ" not in secret,
    ),
    _d("GitHub token", b"gh", rb"gh[pousr]_[A-Za-z0-9]{36}", _starts_token(_TOKEN)),
    _d("GitHub token", b"github_pat_", rb"github_pat_[A-Za-z0-9_]{50,}", _starts_token(_TOKEN)),
    _d("Slack token", b"xox", rb"xox[abposre]-[A-Za-z0-9-]{10,}", _starts_token(_TOKEN)),
    _d(
        "Slack webhook URL",
        b"hooks.slack.com",
        rb"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}",
    ),
    _d("API key (sk-...)", b"sk-", rb"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}", _starts_token(_TOKEN)),
    _d(
        "password in a URL",
        b"://",
        rb"://[^\s:/@'\"]{1,256}:([^\s:/@'\"]{6,256})@",
        lambda secret, before: _url_password(secret),
    ),
    *(
        _d("assignment", hint, b"(" + keyword + b")" + _ASSIGNED, lower=True, extract=_assignment)
        for hint, keyword in (
            (b"passw", rb"passw(?:or)?d"),
            (b"pwd", rb"pwd"),
            (b"secret", rb"secret"),
            (b"token", rb"token"),
            (b"key", rb"key"),
        )
    ),
)


# Shapes that ordinary names, paths and prose never have: a value that goes into a job (an
# option, the compiled YAML) is refused for one of these with no override. The loose shapes are
# left to the code scan, where a team can accept a false positive: a bearer token in prose, and
# a random-looking value assigned to a secret-like name, unless the name is the option's own
# (``--env-var DB_PASSWORD=...``), which says what the value is.
_LOOSE_KINDS = frozenset({"bearer token"})


def secret_shapes(text: str, *, named: bool = False) -> list[str]:
    """The kinds of precise secret shapes in ``text`` (never the secrets), sorted, each once.

    ``named``: ``text`` is ``name=value``, an option's own name and value; a random-looking
    value then counts when the name ends like a secret's (``..._PASSWORD``, ``api_key``...).
    """
    data = text.encode("utf-8", "surrogatepass")
    lower = data.lower()
    kinds = set()
    for detector in DETECTORS:
        if (detector.extract is _assignment and not named) or detector.kind in _LOOSE_KINDS:
            continue
        searched = lower if detector.lower else data
        if not detector.applies(searched):
            continue
        for match in detector.pattern.finditer(searched):
            found = detector.found(data, match)
            if found is None:
                continue
            # An "sk-" key is random; "sk-learn-model-training-..." is a name.
            if found[1].startswith("API key") and not _random_looking(found[2][3:]):
                continue
            kinds.add(found[1])
    # A connection string's key is found as "AccountKey=" and as a key: named once, precisely.
    return sorted(k for k in kinds if not any(o != k and o.startswith(k) for o in kinds))


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    # known secret's label (e.g. the variable name) -> files that contain its value
    known: dict[str, list[str]] = field(default_factory=dict)
    bytes_read: int = 0


@dataclass
class _Region:
    """A piece of a file that ends at a line end (or at an overlap, inside a very long line)."""

    data: bytes
    lower: bytes
    base: int  # offset in the file of data[0]
    lines_before: int  # newlines in the file before data[0]
    previous_line: bytes

    def line_bounds(self, start: int) -> tuple[int, int]:
        begin = self.data.rfind(b"\n", 0, start) + 1
        end = self.data.find(b"\n", start)
        return begin, len(self.data) if end < 0 else end

    def allowed_inline(self, start: int) -> bool:
        begin, end = self.line_bounds(start)
        if PRAGMA in self.data[begin:end]:
            return True
        if begin == 0:
            previous = self.previous_line
        else:
            previous = self.data[self.data.rfind(b"\n", 0, begin - 1) + 1 : begin - 1]
        return NEXTLINE_PRAGMA in previous


def _matches(region: _Region) -> Iterable[Found]:
    """Every secret shape found in the region, not yet allowlisted."""
    for detector in DETECTORS:
        text = region.lower if detector.lower else region.data
        if detector.applies(text):
            for match in detector.pattern.finditer(text):
                found = detector.found(region.data, match)
                if found is not None:
                    yield found


def _scan_region(
    region: _Region, rel: str, seen: set[tuple[int, str]], allowlist: Allowlist
) -> list[Finding]:
    found = []
    line, position = region.lines_before + 1, 0
    for start, kind, secret in sorted(_matches(region)):
        if (region.base + start, kind) in seen:
            continue  # found in the overlap of the previous piece
        seen.add((region.base + start, kind))
        line += region.data.count(b"\n", position, start)
        position = start
        if region.allowed_inline(start):
            continue
        finding = Finding(rel, line, kind, hashlib.sha1(secret).hexdigest())
        if not allowlist.accepts(finding):
            found.append(finding)
    specific = {f.line for f in found if not f.kind.startswith(_GENERIC)}
    return [f for f in found if not (f.kind.startswith(_GENERIC) and f.line in specific)]


def _regions(stream: Iterable[bytes]) -> Iterable[tuple[bytes, bool]]:
    """Pieces of a file ending at a line end; ``True`` when the next piece overlaps this one."""
    carry = b""
    for chunk in stream:
        buffer = carry + chunk
        cut = buffer.rfind(b"\n") + 1
        if cut:
            yield buffer[:cut], False
            carry = buffer[cut:]
        elif len(buffer) >= LONG_LINE:
            yield buffer, True
            carry = buffer[-OVERLAP:]
        else:
            carry = buffer
    if carry:
        yield carry, False


def _chunks(path: Path) -> Iterable[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


@dataclass
class _FileScan:
    rel: str
    known: dict[str, bytes]
    allowlist: Allowlist
    shapes: bool = True
    findings: list[Finding] = field(default_factory=list)
    known_found: set[str] = field(default_factory=set)
    bytes_read: int = 0

    def run(self, path: Path) -> None:
        base, lines_before, previous_line = 0, 0, b""
        seen: set[tuple[int, str]] = set()
        first = True
        for data, overlaps in _regions(_chunks(path)):
            if first and b"\0" in data[:8000]:
                self.shapes = False  # binary: only the known values are looked for
            first = False
            for label, value in self.known.items():
                if label not in self.known_found and value in data:
                    self.known_found.add(label)
            if self.shapes and len(self.findings) < MAX_FINDINGS_PER_FILE:
                region = _Region(data, data.lower(), base, lines_before, previous_line)
                self.findings += _scan_region(region, self.rel, seen, self.allowlist)
            if overlaps:
                step = len(data) - OVERLAP
            else:
                step = len(data)
                cut = data.rfind(b"\n", 0, len(data) - 1) + 1
                previous_line = data[cut:].rstrip(b"\n")
                seen.clear()
            self.bytes_read += step
            lines_before += data.count(b"\n", 0, step)
            base += step
        del self.findings[MAX_FINDINGS_PER_FILE:]


def scan_contents(
    manifest: SnapshotManifest,
    known: dict[str, str] | None = None,
    allowlist: Allowlist | None = None,
) -> ScanResult:
    """Read every file of the manifest once: secret shapes in text files, known values in all.

    ``known`` maps a label (what to call it in a message, never the value) to a secret value.
    """
    allowlist = allowlist or Allowlist.for_directory(manifest.root)
    values = {
        label: value.encode()
        for label, value in (known or {}).items()
        if value and len(value) >= MIN_KNOWN_SECRET
    }
    result = ScanResult()
    for rel in manifest.files:
        scan = _FileScan(rel, values, allowlist, shapes=not allowlist.accepts_file(rel))
        scan.run(manifest.source(rel))
        result.findings += scan.findings
        result.bytes_read += scan.bytes_read
        for label in scan.known_found:
            result.known.setdefault(label, []).append(rel)
    return result
