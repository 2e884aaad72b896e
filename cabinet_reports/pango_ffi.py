"""WeasyPrint's Pango, HarfBuzz and Fontconfig declarations, loaded precompiled.

Takes nothing; :func:`install` gives Python's import system a finder for one module,
``weasyprint.text.ffi``. That module declares about 450 lines of C to cffi (``ffi.cdef``), and
cffi parses them with pycparser every time a process imports WeasyPrint: 0.45–0.55 s of
every ``make-report render`` and of every pack worker, more than the whole Dudley layout's
first page. cffi's "out-of-line ABI mode" does that parse once and writes the result as a
plain Python module of tables (no C compiler, nothing built); loading it takes about 10 ms.

So the first process parses WeasyPrint's own declarations (read from its installed
``ffi.py``, never a copy of ours, so a new WeasyPrint brings its own) and keeps the result in
an owner-only folder under the user's cache folder (cache_folder.py), named by a hash of
those declarations, the cffi and Python versions and this file. Every later process runs
WeasyPrint's ``ffi.py`` as written, except that ``ffi = cffi.FFI(); ffi.cdef(…)`` takes the
kept tables instead: the same types, functions and libraries, so the same bytes out.

It never makes WeasyPrint fail where it would not have: if ``ffi.py`` is not of the expected
shape, the folder is unsafe or unwritable, an entry is damaged (each carries a hash of its
text, checked before it runs) or anything else goes wrong, the module is imported as
WeasyPrint wrote it. ``CABINET_REPORTS_PRECOMPILED_FFI=0`` turns it off.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

TARGET = "weasyprint.text.ffi"
FOLDER = Path("cabinet_reports") / "ffi"
SWITCH = "CABINET_REPORTS_PRECOMPILED_FFI"
_CHECK = "# sha256 "


def install() -> None:
    """Add the finder that loads WeasyPrint's declarations precompiled, unless turned off or too late."""
    if os.environ.get(SWITCH, "1") == "0" or TARGET in sys.modules:
        return
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


class _Finder:
    """Find ``weasyprint.text.ffi`` where the path finder would, and load it with :class:`_Loader`."""

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None):
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader) or not spec.origin:
            return spec
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=_Loader(spec.loader))


class _Loader:
    """Run WeasyPrint's ffi.py with its cffi declarations taken from the kept tables."""

    def __init__(self, original: importlib.machinery.SourceFileLoader):
        self.original = original

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        try:
            code, ffi = _precompiled(self.original.get_source(TARGET) or "", self.original.path)
        except Exception:  # noqa: BLE001 - whatever went wrong, WeasyPrint's own way still works
            code = None
        if code is None:
            self.original.exec_module(module)
            return
        start = dict(module.__dict__)
        module.__dict__["__precompiled_ffi__"] = ffi
        try:
            exec(code, module.__dict__)  # noqa: S102 - WeasyPrint's own ffi.py, one statement changed
        except Exception:  # noqa: BLE001 - something ffi.py does the precompiled ffi cannot: run it as written
            module.__dict__.clear()
            module.__dict__.update(start)
            self.original.exec_module(module)
            return
        del module.__dict__["__precompiled_ffi__"]


def _precompiled(source: str, filename: str) -> tuple[Any, Any]:
    """Return ffi.py compiled to use a precompiled ``ffi``, and that ffi; (None, None) when not possible."""
    import ast

    tree = ast.parse(source, filename)
    declarations = _take_declarations(tree)
    if declarations is None:
        return None, None
    ffi = _kept_ffi(declarations)
    if ffi is None:
        return None, None
    return compile(tree, filename, "exec"), ffi


def _take_declarations(tree: Any) -> str | None:
    """Replace ``ffi = cffi.FFI()`` and the ``ffi.cdef("…")`` after it in ``tree``; return what it declared.

    None, and ``tree`` untouched, unless the module has exactly that shape once and declares
    nothing else (an out-of-line ffi has no ``cdef``).
    """
    import ast

    body = tree.body
    if sum(isinstance(node, ast.Attribute) and node.attr == "cdef" for node in ast.walk(tree)) != 1:
        return None
    found = [i for i, node in enumerate(body[:-1]) if _is_new_ffi(node) and _cdef_text(body[i + 1]) is not None]
    if len(found) != 1 or sum(_is_new_ffi(node) for node in body) != 1:
        return None
    i = found[0]
    declarations = _cdef_text(body[i + 1])
    assign = ast.Assign(targets=[ast.Name("ffi", ast.Store())], value=ast.Name("__precompiled_ffi__", ast.Load()))
    body[i:i + 2] = [ast.copy_location(assign, body[i])]
    ast.fix_missing_locations(tree)
    return declarations


def _is_new_ffi(node: Any) -> bool:
    import ast

    return (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "ffi" and isinstance(node.value, ast.Call)
            and not node.value.args and not node.value.keywords
            and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "FFI"
            and isinstance(node.value.func.value, ast.Name) and node.value.func.value.id == "cffi")


def _cdef_text(node: Any) -> str | None:
    import ast

    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    if (isinstance(call.func, ast.Attribute) and call.func.attr == "cdef" and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "ffi" and len(call.args) == 1 and not call.keywords
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
        return call.args[0].value
    return None


def _kept_ffi(declarations: str) -> Any:
    """Return the precompiled ffi for ``declarations``, parsing and keeping it first if need be; None without a safe folder."""
    import hashlib

    import cffi

    from .cache_folder import private_folder

    digest = hashlib.sha256()
    for part in (declarations, cffi.__version__, sys.version, Path(__file__).read_text(encoding="utf-8")):
        digest.update(part.encode() + b"\0")
    folder = private_folder(FOLDER)
    if folder is None:
        return None
    entry = folder / f"{digest.hexdigest()[:32]}.py"
    text = _read_checked(entry)
    if text is None:
        text = _parse(declarations)
        _keep(entry, text)
    made = "ffi = _cffi_backend.FFI("
    if text.count(made) != 1 or not hasattr(os, "RTLD_NODELETE"):
        return None
    namespace: dict[str, Any] = {"__ffi_class__": _library_keeping_ffi()}
    code = compile(text.replace(made, "ffi = __ffi_class__("), str(entry), "exec")
    exec(code, namespace)  # noqa: S102 - tables cffi wrote, hash-checked
    return namespace["ffi"]


_LIBRARIES: list[Any] = []


@functools.lru_cache(maxsize=1)
def _library_keeping_ffi() -> type:
    """Return cffi's out-of-line FFI type, made to keep every library it opens loaded to the end.

    cffi's in-line FFI (WeasyPrint's own) keeps a reference to every library it opened, so
    none is unloaded while objects it made still exist; an out-of-line one does not. At exit,
    Python then freed ``pango`` and the others (``dlclose``) before the last Pango objects whose
    ``ffi.gc`` destructors point into them: a segmentation fault as the process ended.
    RTLD_NODELETE keeps the code mapped whatever is freed first, as in a process that never
    unloads them (the in-line FFI's case).
    """
    import _cffi_backend

    class _KeepLibraries(_cffi_backend.FFI):
        def dlopen(self, name: Any, flags: int = 0) -> Any:
            library = super().dlopen(name, flags | os.RTLD_NODELETE)
            _LIBRARIES.append(library)
            return library

    return _KeepLibraries


def _read_checked(entry: Path) -> str | None:
    """Return the entry's text if it is whole (its last line is the hash of the rest), else None."""
    import hashlib

    try:
        data = entry.read_bytes()
    except OSError:
        return None
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    if last != (_CHECK + hashlib.sha256(body).hexdigest()).encode():
        return None
    return body.decode("utf-8")


def _parse(declarations: str) -> str:
    """Return the out-of-line module cffi writes for ``declarations`` (the slow parse, done once)."""
    import contextlib
    import io

    import cffi

    builder = cffi.FFI()
    builder.cdef(declarations)
    builder.set_source("_weasyprint_pango_ffi", None)
    out = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()):  # cffi says "generating …" on stdout
        builder.emit_python_code(out)
    return out.getvalue()


def _keep(entry: Path, text: str) -> None:
    """Write the entry with its hash line, atomically; failing only costs the next process the parse."""
    import hashlib
    import tempfile

    body = text.rstrip("\n").encode("utf-8")
    data = body + b"\n" + (_CHECK + hashlib.sha256(body).hexdigest()).encode() + b"\n"
    try:
        fd, temp = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, entry)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
