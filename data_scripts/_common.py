"""Shared helpers for the data_scripts: resumable, checksummed downloads; safe extraction; layout checks; done markers.

Every script follows the same steps:

1. if `<root>/<folder>/.oodgen_done` exists, stop: the data set is ready (a second run does nothing);
2. download each file to `<root>/_downloads/<name>.part`, resuming an interrupted download with an HTTP
   `Range` request, then check its SHA-256 / MD5: only a file that matches is renamed to `<name>` (a bad
   one is deleted and the script fails with the two hashes and what to do);
3. extract into `<root>/_tmp_<folder>/`, move the data into the layout `oodgen.data` reads
   (`<root>/<folder>/<domain>/<class>/<image>` for the DomainBed sets), check it, then write the done marker.
   Tar members pass the `data` extraction filter and zip members must land inside the folder: a path or link
   leading outside it, an absolute path, a device or a FIFO stops with an `ArchiveError` naming the member.

A full disk (`ENOSPC`) stops with one line naming the folder and the space needed (`DiskFullError`); the `.part`
download, the archive and data sets prepared before are kept, so the same command resumes once space is freed.

Where no checksum is published the SHA-256 of what was downloaded is printed and stored in the done marker
("trust on first use"); pin it with `--sha256` on other machines.

Only the standard library and tqdm are imported here; `oodgen` (and so torch) only to read the default
data root and the benchmarks' domain and class names, when needed.
"""
from __future__ import annotations

import argparse, errno, gzip, hashlib, http.client, json, os, shutil, socket, sys, tarfile, time, urllib.error, urllib.parse
import urllib.request, zipfile
from pathlib import Path

DONE = ".oodgen_done"
USER_AGENT = "oodgen-data-scripts/0.1 (+https://github.com/oodgen/oodgen)"


class DownloadError(RuntimeError):
    "A download failed (network, HTTP status, or an HTML page where a file was expected)."


class ChecksumError(ValueError):
    "A downloaded file does not have the expected checksum."


class LayoutError(ValueError):
    "The extracted data is not in the expected layout."


class DiskFullError(RuntimeError):
    "A write found the disk full (`ENOSPC`); what was written before (downloads, earlier data sets) is kept."


def _human(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB": return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024


def disk_full(folder, need: int | None = None, at_least: bool = False, keep: str = "") -> DiskFullError:
    "The one-line error for a full disk under `folder`: the space needed (when known), the space free, what to do."
    folder = Path(folder); probe = folder
    while not probe.exists() and probe != probe.parent: probe = probe.parent
    try: free = f"{_human(shutil.disk_usage(probe).free)} free"
    except OSError: free = "free space unknown"
    needs = f"{'at least ' if at_least else ''}{_human(need)} more needed, " if need else ""
    return DiskFullError(f"disk full writing to {folder} ({needs}{free}): free some space there or pass --root on a "
                         f"larger disk, then run the same command again{'; ' + keep if keep else ''}")


def _write(folder, fn, *args, need: int | None = None, at_least: bool = False, keep: str = "", **kw):
    "`fn(*args, **kw)`, a write under `folder`; a full disk (`ENOSPC`) becomes `DiskFullError` naming the folder."
    try:
        return fn(*args, **kw)
    except OSError as e:
        if e.errno != errno.ENOSPC: raise
        raise disk_full(folder, need, at_least, keep) from None


def default_root() -> Path:
    "`oodgen.core.data_root()`: `$OODGEN_DATA`, else `~/.cache/oodgen/data`."
    try:
        from oodgen.core import data_root
        return data_root()
    except ImportError:   # running the scripts without oodgen installed: the same rule
        return Path(os.environ.get("OODGEN_DATA") or "~/.cache/oodgen/data").expanduser()


def drive_url(file_id: str) -> str:
    "Direct download URL of a public Google Drive file (skips the 'cannot scan for viruses' page)."
    return f"https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t"


# ---------------------------------------------------------------------------------------------------- checksums
def file_hash(path, algo: str = "sha256", chunk: int = 1 << 20) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while b := f.read(chunk): h.update(b)
    return h.hexdigest()


def verify(path, sha256: str | None = None, md5: str | None = None, name: str | None = None) -> str:
    "Check `path` against the given hashes (raise `ChecksumError`); return its SHA-256."
    got, name = file_hash(path, "sha256"), name or Path(path).name
    if sha256 and got.lower() != sha256.lower():
        raise ChecksumError(f"{name}: SHA-256 is {got}, expected {sha256}")
    if md5:
        got_md5 = file_hash(path, "md5")
        if got_md5.lower() != md5.lower():
            raise ChecksumError(f"{name}: MD5 is {got_md5}, expected {md5}")
    return got


# ---------------------------------------------------------------------------------------------------- download
def _progress(total, initial, desc, quiet):
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                disable=quiet, leave=False)


def download(url: str, dest, sha256: str | None = None, md5: str | None = None, retries: int = 3,
             timeout: float = 60, chunk_size: int = 1 << 20, quiet: bool = False, backoff: float = 1.0) -> Path:
    """Stream `url` to `dest`, resuming `dest.part` with HTTP Range; rename to `dest` only once the checksum matches.

    A `dest` that already exists and matches is kept (no network). Interruptions are retried `retries` times
    (resuming); if they persist the `.part` file stays for the next run to resume. A checksum mismatch deletes
    the `.part` file and raises `ChecksumError`.
    """
    dest = Path(dest); dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if dest.exists():
        try:
            verify(dest, sha256, md5); return dest
        except ChecksumError as e:
            print(f"{dest} exists but {e}; downloading it again", file=sys.stderr); dest.unlink()
    attempt = 0
    while True:
        offset = part.stat().st_size if part.exists() else 0
        headers = {"User-Agent": USER_AGENT}
        if offset: headers["Range"] = f"bytes={offset}-"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as r:
                ctype = r.headers.get("Content-Type", "")
                if "text/html" in ctype and not urllib.parse.urlparse(url).path.endswith((".html", ".htm")):
                    raise DownloadError(
                        f"{url} returned an HTML page instead of the file (a login, licence, quota or virus-scan "
                        f"page). Download it in a browser and pass the file with --archive PATH (scripts with one "
                        f"archive), or pass a direct mirror with --url")
                if offset and r.status != 206:          # the server ignored Range: start over
                    offset = 0
                elif offset:
                    start = r.headers.get("Content-Range", "").split(" ")[-1].split("-")[0]
                    if start.isdigit() and int(start) != offset: offset = 0
                length = r.headers.get("Content-Length")
                total = offset + int(length) if length and length.isdigit() else None
                try:
                    with open(part, "ab" if offset else "wb") as f, _progress(total, offset, dest.name, quiet) as bar:
                        while chunk := r.read(chunk_size):
                            f.write(chunk); bar.update(len(chunk))
                except OSError as e:
                    if e.errno != errno.ENOSPC: raise
                    have = part.stat().st_size if part.exists() else 0
                    raise disk_full(dest.parent, total - have if total else None,
                                    keep=f"{part.name} keeps the {have:,} bytes received and resumes from there") from None
                size = part.stat().st_size
                if total is not None and size != total:
                    raise DownloadError(f"connection closed after {size} of {total} bytes")
            break
        except urllib.error.HTTPError as e:
            if e.code == 416 and offset:                # nothing left to fetch: the part file is complete
                break
            if e.code in (408, 429, 500, 502, 503, 504) and attempt < retries:
                attempt += 1; time.sleep(backoff * attempt); continue
            raise DownloadError(f"{url}: HTTP {e.code} {e.reason}. The link may have moved: pass a mirror with "
                                f"--url, or download the file yourself and pass it with --archive PATH") from None
        except (DownloadError, urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout,
                TimeoutError) as e:
            if isinstance(e, DownloadError) and "HTML page" in str(e): raise
            if attempt >= retries:
                have = part.stat().st_size if part.exists() else 0
                raise DownloadError(f"download of {url} failed ({e}); {part} keeps the {have:,} bytes received: "
                                    f"run the same command again to resume") from None
            attempt += 1; time.sleep(backoff * attempt)
    try:
        verify(part, sha256, md5, name=dest.name)
    except ChecksumError as e:
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{e}. The bad download was deleted. The server may hold another version of the "
                            f"file: check --url, or if you trust this file pass --sha256 with its hash") from None
    os.replace(part, dest)
    return dest


# ---------------------------------------------------------------------------------------------------- extraction
class ArchiveError(ValueError):
    "An archive member that extraction refuses: a path or link leading outside the target, a device, a FIFO ..."


def _safe_target(base: Path, name: str, archive=None) -> Path:
    t = (base / name).resolve()
    if base.resolve() not in (t, *t.parents):
        raise ArchiveError(f"{Path(archive).name + ': ' if archive else ''}archive member {name!r} would land outside "
                           f"{base}; refusing to extract it (the archive is damaged or not what it should be)")
    return t


_TAR_REFUSALS = {"SpecialFileError": "it is a special file (a device or FIFO), which a data set does not hold",
                 "AbsolutePathError": "its path is absolute", "OutsideDestinationError": "its path leads outside {dest}",
                 "AbsoluteLinkError": "it is a link to an absolute path",
                 "LinkOutsideDestinationError": "it is a link pointing outside {dest}"}


def _check_tar_member(m: tarfile.TarInfo, dest: Path, archive: Path):
    "Raise `ArchiveError` naming `m` unless the `data` extraction filter lets it through (checked by hand before 3.11.4)."
    def refuse(why):
        raise ArchiveError(f"{archive.name}: refusing to extract archive member {m.name!r}: {why.format(dest=dest)}; "
                           f"nothing of it was written (the archive is damaged or not what it should be)")
    if m.name.startswith(("/", os.sep)): refuse(_TAR_REFUSALS["AbsolutePathError"])    # (the filter would strip the /)
    if hasattr(tarfile, "data_filter"):
        try: tarfile.data_filter(m, str(dest))
        except tarfile.FilterError as e: refuse(_TAR_REFUSALS.get(type(e).__name__, str(e)))
        return
    if not (m.isreg() or m.isdir() or m.issym() or m.islnk()): refuse(_TAR_REFUSALS["SpecialFileError"])
    if (m.issym() or m.islnk()) and Path(m.linkname).is_absolute(): refuse(_TAR_REFUSALS["AbsoluteLinkError"])
    try:
        _safe_target(dest, m.name)
        if m.issym() or m.islnk():
            _safe_target(dest, str(Path(m.name).parent / m.linkname) if m.issym() else m.linkname)
    except ArchiveError: refuse(_TAR_REFUSALS["OutsideDestinationError"] if not (m.issym() or m.islnk())
                                else _TAR_REFUSALS["LinkOutsideDestinationError"])


def extract(archive, dest, quiet: bool = False) -> Path:
    """Extract a .zip, .tar(.gz/.bz2/.xz) or single-file .gz into `dest`.

    Tar members go through the `data` filter (`tarfile.data_filter`): no absolute paths or `..` out of `dest`, no links
    pointing outside it, no devices or FIFOs; zip members must land inside `dest`. A refused member stops the
    extraction with an `ArchiveError` naming it.
    """
    archive, dest = Path(archive), Path(dest); dest.mkdir(parents=True, exist_ok=True)
    from tqdm.auto import tqdm
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            members = z.infolist()
            for m in members: _safe_target(dest, m.filename, archive)             # every member checked first
            left = sum(m.file_size for m in members)
            for m in tqdm(members, desc=f"extract {archive.name}", disable=quiet, leave=False):
                _write(dest, z.extract, m, dest, need=left); left -= m.file_size
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive, "r:*") as t:
            for m in tqdm(t, desc=f"extract {archive.name}", disable=quiet, leave=False):
                _check_tar_member(m, dest, archive)
                _write(dest, t.extract, m, dest, need=m.size or None, at_least=True,
                       **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    elif archive.suffix == ".gz":
        with gzip.open(archive, "rb") as fi, open(dest / archive.stem, "wb") as fo: _write(dest, shutil.copyfileobj, fi, fo)
    else:
        raise ValueError(f"{archive} is not a zip, tar or gz archive (is the download an HTML page?)")
    return dest


# ---------------------------------------------------------------------------------------------------- layout
def find_dir(base, names, max_depth: int = 4) -> Path:
    "The first folder under `base` (breadth first) holding sub-folders named `names`."
    base, names = Path(base), set(names)
    level = [base]
    for _ in range(max_depth + 1):
        nxt = []
        for d in level:
            subs = {p.name for p in d.iterdir() if p.is_dir()}
            if names <= subs: return d
            nxt += [d / s for s in sorted(subs) if not s.startswith("__MACOSX")]
        level = nxt
    raise LayoutError(f"no folder under {base} holds all of {sorted(names)}; the archive does not have the "
                      f"expected layout")


def check_domain_layout(folder, domains, classes=None, exact_classes: bool = True) -> dict:
    "Check `<folder>/<domain>/<class>/<images>`; return {domain: number of images}; raise `LayoutError`."
    folder = Path(folder); problems, counts = [], {}
    exts = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
    for d in domains:
        dd = folder / d
        if not dd.is_dir(): problems.append(f"missing domain folder {dd}"); continue
        present = sorted(p.name for p in dd.iterdir() if p.is_dir() and not p.name.startswith("."))
        if classes is not None:
            unknown = sorted(set(present) - set(classes))
            if unknown: problems.append(f"{dd}: unexpected class folders {unknown[:5]}")
            missing = sorted(set(classes) - set(present))
            if missing and exact_classes: problems.append(f"{dd}: missing class folders {missing[:5]}")
        counts[d] = sum(1 for c in present for p in (dd / c).iterdir() if p.suffix.lower() in exts)
        if counts[d] == 0: problems.append(f"{dd}: no images")
    if problems:
        raise LayoutError("the data is not in the expected layout:\n  " + "\n  ".join(problems))
    return counts


def spec(name: str):
    "Domain and class names of a benchmark from `oodgen.data.domains.DATASET_SPECS`."
    from oodgen.data.domains import DATASET_SPECS
    return DATASET_SPECS[name]


def is_done(folder) -> dict | None:
    p = Path(folder) / DONE
    return json.loads(p.read_text()) if p.exists() else None


def mark_done(folder, **info) -> Path:
    p = Path(folder) / DONE
    tmp = p.with_name(p.name + ".tmp")
    _write(p.parent, tmp.write_text, json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **info}, indent=2) + "\n")
    os.replace(tmp, p)
    return p


def report(msg: str, quiet: bool = False):
    if not quiet: print(msg, flush=True)


# ---------------------------------------------------------------------------------------------------- one archive
def prepare_archive(*, name: str, root, folder: str, url: str, filename: str, locate, check, sha256=None, md5=None,
                    archive=None, keep_archive: bool = False, quiet: bool = False, retries: int = 3,
                    timeout: float = 60) -> Path:
    """Download (or take `archive`), verify, extract, move `locate(tmpdir)` to `<root>/<folder>`, `check` it, mark done.

    `locate(tmp) -> Path` finds the folder to become `<root>/<folder>` in the extracted tree; `check(path)`
    raises `LayoutError` when the result is wrong and may return a summary (printed).
    """
    root = Path(root).expanduser(); target = root / folder
    if (info := is_done(target)) is not None:
        report(f"{name}: already prepared in {target} ({DONE} from {info.get('time')}); nothing to do", quiet)
        return target
    if target.exists() and any(target.iterdir()):
        try:
            summary = check(target)
        except LayoutError as e:
            raise LayoutError(f"{target} exists but is incomplete or not {name} ({e}); delete it (or move it "
                              f"away) and run this script again") from None
        mark_done(target, name=name, note="found in place; not downloaded by this script", summary=summary)
        report(f"{name}: found a complete copy in {target}; marked done", quiet)
        return target
    if archive is not None:
        archive = Path(archive).expanduser()
        if not archive.exists(): raise FileNotFoundError(f"--archive {archive} does not exist")
        digest = verify(archive, sha256, md5)
    else:
        archive = download(url, root / "_downloads" / filename, sha256, md5, retries=retries, timeout=timeout, quiet=quiet)
        digest = verify(archive)
    if not (sha256 or md5):
        report(f"{name}: no published checksum; SHA-256 of {archive.name} is {digest} (pass --sha256 {digest} to "
               f"pin it elsewhere)", quiet)
    tmp = root / ("_tmp_" + folder.replace("/", "_"))
    if tmp.exists(): shutil.rmtree(tmp)
    try:
        extract(archive, tmp, quiet=quiet)
    except DiskFullError as e:
        shutil.rmtree(tmp, ignore_errors=True)          # the partial extraction; the archive stays for the next run
        raise DiskFullError(f"{e}; {archive} is kept") from None
    src = locate(tmp)
    summary = check(src)
    if target.exists(): target.rmdir()           # an empty folder left by an earlier attempt
    target.parent.mkdir(parents=True, exist_ok=True)
    _write(target.parent, shutil.move, str(src), str(target), keep=f"the extracted data is in {src}")
    shutil.rmtree(tmp, ignore_errors=True)
    mark_done(target, name=name, url=url if archive.parent.name == "_downloads" else None, file=archive.name,
              sha256=digest, summary=summary)
    if not keep_archive and archive.parent == root / "_downloads": archive.unlink()
    report(f"{name}: ready in {target}" + (f" ({summary})" if summary else ""), quiet)
    return target


def parser(description: str, url: str | None = None, archive: bool = True, sha256: bool = True) -> argparse.ArgumentParser:
    "The common command line: --root, --url, [--archive], [--sha256], --keep-archive, --quiet."
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=None, help="data root (default: $OODGEN_DATA or ~/.cache/oodgen/data)")
    ap.add_argument("--url", default=url, help=f"download URL or mirror (default: {url})")
    if archive: ap.add_argument("--archive", default=None, help="use this already downloaded file instead of downloading")
    if sha256: ap.add_argument("--sha256", default=None, help="expected SHA-256 of the download (overrides the built-in check)")
    ap.add_argument("--keep-archive", action="store_true", help="keep the downloaded archive in <root>/_downloads")
    ap.add_argument("--quiet", action="store_true")
    return ap


def root_of(args) -> Path:
    return Path(args.root).expanduser() if args.root else default_root()


def run_main(fn):
    "Run a script's main, turning expected failures into a one-paragraph message and exit status 1."
    try:
        fn()
    except (DownloadError, ChecksumError, LayoutError, DiskFullError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr); sys.exit(1)
    except OSError as e:                   # a full disk in a script's own writes: one line, not a traceback
        if e.errno != errno.ENOSPC: raise
        print(f"error: {disk_full(Path(e.filename).parent if e.filename else default_root())}", file=sys.stderr); sys.exit(1)
