"""WeasyPrint's Pango, HarfBuzz and Fontconfig declarations, loaded precompiled (and two imports deferred).

Takes nothing; :func:`install` gives Python's import system a finder for two of WeasyPrint's
modules: ``weasyprint.text.ffi``, below, and ``weasyprint.pdf.fonts``, run with its imports of
fontTools' subsetter and instancer deferred to their first use (:class:`_FontsLoader`).
Importing ``weasyprint.text.ffi`` took 0.45–0.55 s of every process that renders
(``make-report render``, each pack worker, ``watch``), more than laying out the Dudley
report's first page. Two things made it slow, both in cffi's "in-line ABI mode":

- cffi parses its 450 lines of C declarations (``ffi.cdef``) with pycparser: about 0.1 s;
- opening each library by the names WeasyPrint tries (``libgobject-2.0-0``, ``gobject-2.0-0``,
  …, ``libgobject-2.0.so.0``), the in-line FFI asks ``ctypes.util.find_library`` about every
  name that does not open as given, and on Linux that runs ``ldconfig -p`` each time: about 0.35 s.

cffi's "out-of-line ABI mode" does the parse once and writes the result as a plain Python
module of tables (no C compiler, nothing built); loading it takes about 10 ms, and its
``dlopen`` opens a name as given, without ``find_library``. So the first process parses
WeasyPrint's own declarations (read from its installed ``ffi.py``, never a copy of ours, so a
new WeasyPrint brings its own) and keeps the result in an owner-only folder under the user's
cache folder (cache_folder.py), named by a hash of those declarations, the cffi and Python
versions and this file. Later processes run WeasyPrint's ``ffi.py`` as written, except that
``ffi = cffi.FFI(); ffi.cdef(…)`` takes the kept tables instead: the same types and functions.
On Linux the libraries opened are the same files (``find_library`` answers with the sonames
that WeasyPrint's later names give directly). Where a library opens only through
``find_library`` (some macOS and conda set-ups), no name opens as given, and WeasyPrint's module
is run as written instead, its "could not import some external libraries" message unprinted.

It never makes WeasyPrint fail where it would not have: if ``ffi.py`` is not of the expected
shape, the folder is unsafe or unwritable, an entry is damaged (each carries a hash of its
text, checked before it runs) or anything else goes wrong, the module is imported as
WeasyPrint wrote it. It is the command line's choice (:func:`enable`), as the compiled-template
cache is: ``make-report`` turns it on for itself and the workers it starts, through
``CABINET_REPORTS_KEEP_COMPILED=1`` in its environment (``--no-cache`` sets 0); a Python
program calling the library writes nothing unless it sets that variable before importing.
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

from .cache_folder import KEEP_COMPILED

TARGET = "weasyprint.text.ffi"
FONTS = "weasyprint.pdf.fonts"
FOLDER = Path("cabinet_reports") / "ffi"
SWITCH = KEEP_COMPILED  # make-report's choice, shared with the compiled templates (template_cache.py)
_CHECK = "# sha256 "
_STALE_SECONDS = 600  # a temporary file this old is no process's entry being written


def enable(keep: bool = True) -> None:
    """Turn the precompiled declarations on for this process and the workers it starts, as make-report does.

    ``keep=False`` (the command's ``--no-cache``) turns them off, as does
    CABINET_REPORTS_KEEP_COMPILED=0 already in the environment.
    """
    if not keep:
        os.environ[SWITCH] = "0"
    os.environ.setdefault(SWITCH, "1")
    install()


def install() -> None:
    """Add the finder for WeasyPrint's modules, if the command line asked and it is not too late.

    The font-tools deferral (:class:`_FontsLoader`) comes with any setting make-report gave
    (it writes nothing, so ``--no-cache`` keeps it); the precompiled declarations only with 1.
    """
    setting = os.environ.get(SWITCH)
    if setting not in ("0", "1"):
        return
    targets = set()
    if FONTS not in sys.modules:
        targets.add(FONTS)
    if setting == "1" and TARGET not in sys.modules and hasattr(os, "RTLD_NODELETE"):
        targets.add(TARGET)  # (RTLD_NODELETE: see _library_keeping_ffi; Windows has no such flag)
    if targets and not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder(targets))


class _Finder:
    """Find WeasyPrint's ``text.ffi`` and ``pdf.fonts`` where the path finder would, and load them our way."""

    def __init__(self, targets: set[str]):
        self.targets = targets

    def find_spec(self, fullname: str, path: Any = None, target: ModuleType | None = None):
        if fullname not in self.targets:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader) or not spec.origin:
            return spec
        loader = _Loader(spec.loader) if fullname == TARGET else _FontsLoader(spec.loader)
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=loader)


class _RewritingLoader:
    """Run one of WeasyPrint's modules from a changed copy of its code, or as WeasyPrint wrote it.

    As written whenever the changed code cannot be had (an unexpected shape, an unsafe folder,
    anything at all going wrong) or fails as it runs: WeasyPrint's own way still works.
    """

    def __init__(self, original: importlib.machinery.SourceFileLoader):
        self.original = original

    def create_module(self, spec):
        return None  # the default module object

    def changed(self) -> tuple[Any, dict[str, Any]] | None:
        """Return the changed code and the names it expects to find, or None."""
        raise NotImplementedError

    def exec_module(self, module: ModuleType) -> None:
        try:
            found = self.changed()
        except Exception:  # noqa: BLE001 - whatever went wrong, WeasyPrint's own way still works
            found = None
        if found is None:
            self.original.exec_module(module)
            return
        code, names = found
        start = dict(module.__dict__)
        module.__dict__.update(names)
        try:
            exec(code, module.__dict__)  # noqa: S102 - WeasyPrint's own module, one or two statements changed
        except Exception:  # noqa: BLE001 - something the changed code cannot do: run it as written
            module.__dict__.clear()
            module.__dict__.update(start)
            self.original.exec_module(module)
            return
        for name in names:
            del module.__dict__[name]
        self.done()

    def done(self) -> None:
        """Finish after the changed code ran."""


class _Loader(_RewritingLoader):
    """Run WeasyPrint's ffi.py with its cffi declarations taken from the kept tables."""

    def changed(self) -> tuple[Any, dict[str, Any]] | None:
        code, ffi = _precompiled(self.original.get_source(TARGET) or "", self.original.path)
        if code is None:
            return None
        self.printed: list[tuple] = []
        # WeasyPrint prints its "could not import some external libraries" advice before it
        # gives up on a library: held back, since WeasyPrint's own way may yet find it.
        return code, {"__precompiled_ffi__": ffi,
                      "print": lambda *args, **kwargs: self.printed.append((args, kwargs))}

    def done(self) -> None:
        for args, kwargs in self.printed:  # pragma: no cover - it prints only on its way to failing
            print(*args, **kwargs)


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
        if _keep(entry, text):
            _forget_others(entry)
    made = "ffi = _cffi_backend.FFI("
    if text.count(made) != 1:
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
    body = _read_checked_bytes(entry)
    return None if body is None else body.decode("utf-8")


def _read_checked_bytes(entry: Path) -> bytes | None:
    """Return the entry's bytes before its hash line if they are whole, else None."""
    import hashlib

    try:
        data = entry.read_bytes()
    except OSError:
        return None
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    if last != (_CHECK + hashlib.sha256(body).hexdigest()).encode():
        return None
    return body


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


def _forget_others(entry: Path, prefix: str = "") -> None:
    """Remove the entries an earlier WeasyPrint, cffi or Python left (of this kind, named with
    ``prefix``), and temporary files too old to be another process's entry on its way."""
    import time

    for other in entry.parent.iterdir():
        try:
            if other == entry:
                continue
            if other.suffix == entry.suffix and other.name.startswith(prefix):
                other.unlink()
            elif other.name.endswith(".tmp") and time.time() - other.stat().st_mtime > _STALE_SECONDS:
                other.unlink()
        except OSError:
            pass


def _keep(entry: Path, text: str) -> bool:
    """Write the entry with its hash line, atomically; return whether it was written (else the next process parses)."""
    return _keep_bytes(entry, text.rstrip("\n").encode("utf-8"))


def _keep_bytes(entry: Path, body: bytes) -> bool:
    """Write ``body`` and its hash line to the entry, atomically; return whether it was written."""
    import hashlib
    import tempfile

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
        return False
    return True


# What WeasyPrint's pdf/fonts.py imports at the top and uses only for fonts HarfBuzz cannot
# subset, or variable fonts: name bound in fonts.py -> (module, attribute or None for the module).
DEFERRED = {"subset": ("fontTools.subset", None),
            "instantiateVariableFont": ("fontTools.varLib.instancer", "instantiateVariableFont")}


class _FontsLoader(_RewritingLoader):
    """Run WeasyPrint's pdf/fonts.py with fontTools' subsetter and instancer imported when first used.

    fonts.py imports them at the top (0.11 s of a 0.55 s ``import weasyprint``, in every process
    that renders), but WeasyPrint subsets with HarfBuzz where it can (``hb-subset`` 4.1 or
    later, as on every system we support) and instantiates only variable fonts; the shipped
    fonts are static. Each of the two names is bound to a stand-in that imports the real module
    the first time it is used, so a PDF is the same bytes either way.
    """

    def changed(self) -> tuple[Any, dict[str, Any]] | None:
        code = _kept_code(self.original.get_source(FONTS) or "", self.original.path)
        return None if code is None else (code, {"__deferred__": _Deferred})


def _kept_code(source: str, filename: str) -> Any:
    """Return fonts.py compiled with its imports deferred, kept compiled between processes.

    Kept when the precompiled declarations are on: parsing and compiling the changed source
    (:func:`_fonts_deferred`) took 0.03 s, loading it compiled takes 1 ms. An entry that is not
    whole, or not a code object, is compiled and written again. Each copy of WeasyPrint (a
    virtual environment, a checkout) has its own entries: the entry's name starts with a hash
    of the file's path, and only that copy's older entries are removed.
    """
    import hashlib
    import marshal
    import types

    from .cache_folder import private_folder

    folder = private_folder(FOLDER) if os.environ.get(SWITCH) == "1" else None
    if folder is None:
        return _fonts_deferred(source, filename)
    digest = hashlib.sha256()
    for part in (source, filename, sys.version, Path(__file__).read_text(encoding="utf-8")):
        digest.update(part.encode() + b"\0")
    where = hashlib.sha256(filename.encode()).hexdigest()[:8]
    entry = folder / f"fonts-{where}-{digest.hexdigest()[:32]}.code"
    body = _read_checked_bytes(entry)
    if body is not None:
        try:
            code = marshal.loads(body)
        except (ValueError, EOFError, TypeError):
            code = None
        if isinstance(code, types.CodeType):
            return code
    code = _fonts_deferred(source, filename)
    if code is not None and _keep_bytes(entry, marshal.dumps(code)):
        _forget_others(entry, f"fonts-{where}-")
    return code


def _fonts_deferred(source: str, filename: str) -> Any:
    """Return fonts.py compiled with DEFERRED's imports replaced by stand-ins; None unless each is there once, alone."""
    import ast

    tree = ast.parse(source, filename)
    found: dict[str, int] = {}
    for i, node in enumerate(tree.body):
        if not isinstance(node, ast.ImportFrom) or node.level or len(node.names) != 1:
            continue
        alias = node.names[0]
        name = alias.asname or alias.name
        module, attribute = DEFERRED.get(name, (None, None))
        if module is not None and (node.module, alias.name) == (
                (module, attribute) if attribute else tuple(module.rsplit(".", 1))):
            if name in found:
                return None
            found[name] = i
    if found.keys() != DEFERRED.keys():
        return None
    for name, i in found.items():
        module, attribute = DEFERRED[name]
        call = ast.Call(func=ast.Name("__deferred__", ast.Load()),
                        args=[ast.Constant(module), ast.Constant(attribute)], keywords=[])
        tree.body[i] = ast.copy_location(ast.Assign(targets=[ast.Name(name, ast.Store())], value=call), tree.body[i])
    ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec")


class _Deferred:
    """A module, or one function of it, imported the first time it is used."""

    def __init__(self, module: str, attribute: str | None):
        self._module, self._attribute = module, attribute

    def _target(self) -> Any:
        import importlib

        found = importlib.import_module(self._module)
        return getattr(found, self._attribute) if self._attribute else found

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like ask for these: not the module's
            raise AttributeError(name)
        return getattr(self._target(), name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<deferred {self._module}{'.' + self._attribute if self._attribute else ''}>"
