"""The sandbox on its own: what plain() gives templates, what a template may call, and limits.

The command-line reproducers of issue 12 (pickle payloads, symlinks, embedded files, each
exhausting payload) are in tests/test_theme_sandbox.py; these tests pin the policy itself,
and a hypothesis test throws random templates built from a grammar of hostile Jinja at it.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import enum
import gc
import io
import os
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from cabinet_reports import Theme, build, load_report, sandbox
from cabinet_reports.errors import ThemeError
from cabinet_reports.models import Classification, Council, Report
from cabinet_reports.sandbox import ThemeLoader, ThemeSandbox, plain, theme_file
from cabinet_reports.theme import builtin_theme_dir

ROOT = Path(__file__).resolve().parent.parent
DUDLEY = ROOT / "examples" / "dudley-2005-partnership-strategy" / "report.yaml"
THEME = Theme()


# ----------------------------------------------------------------------------- sentinels
class Calls:
    """Records every call that reached a sentinel: must stay empty."""

    made: list[str] = []


class Sentinel(BaseModel):
    """A model with methods a template must never reach."""

    name: str = "sentinel"

    def fire(self, *args, **kwargs):
        Calls.made.append("Sentinel.fire")
        return "FIRED"

    @classmethod
    def build(cls, *args, **kwargs):
        Calls.made.append("Sentinel.build")
        return "FIRED"

    @property
    def label(self) -> str:
        return "a property is data"


@dataclasses.dataclass
class Record:
    """A dataclass with a method a template must never reach."""

    title: str = "record"
    tags: tuple[str, ...] = ("a", "b")

    def fire(self, *args, **kwargs):
        Calls.made.append("Record.fire")
        return "FIRED"


class Colour(enum.Enum):
    RED = "red"


def walk(value):
    """Yield every value inside plain data."""
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(k)
            yield from walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from walk(v)


PLAIN_TYPES = (str, int, float, bool, type(None), dt.date, dict, list, tuple)


# ----------------------------------------------------------------------------- plain()
def test_plain_turns_models_and_dataclasses_into_data():
    data = plain({"council": Council(name="Dudley"), "record": Record(), "path": Path("/x/y"), "colour": Colour.RED,
                  "set": {"b", "a"}, "when": dt.date(2005, 3, 16), "sentinel": Sentinel()})
    assert data == {"council": {"name": "Dudley", "logo": None}, "record": {"title": "record", "tags": ("a", "b")},
                    "path": "/x/y", "colour": "red", "set": ["a", "b"], "when": dt.date(2005, 3, 16),
                    "sentinel": {"name": "sentinel", "label": "a property is data"}}
    assert type(data["council"]) is sandbox.PlainDict and isinstance(data["record"]["tags"], tuple)


def test_plain_keeps_the_properties_templates_use():
    assert plain(Classification(status="exempt", paragraphs=[3]))["exempt"] is True


def test_plain_converts_a_shared_object_once():
    council = Council(name="Dudley")
    data = plain([council, council])
    assert data[0] is data[1]


def test_plain_refuses_what_is_not_data():
    with pytest.raises(TypeError, match="cannot be given to a theme template"):
        plain({"asset": lambda name: name})
    with pytest.raises(TypeError):
        plain(io.BytesIO())


def test_no_model_object_crosses_into_a_template():
    """The whole numbered document and the report become nothing but plain data."""
    report = load_report(DUDLEY)
    doc = build(report, THEME)
    for value in walk(plain({"doc": doc, "report": report})):
        assert type(value) in PLAIN_TYPES or isinstance(value, (dict, list, tuple)), type(value)
        assert not isinstance(value, (BaseModel, Report)) and not dataclasses.is_dataclass(value)


def test_theme_text_converts_the_context_at_the_door():
    """Whoever calls, a model handed to Theme.text reaches the template as a dict."""
    with pytest.raises(ThemeError, match="'dict object' has no attribute 'fire'"):
        THEME.text("{{ s.fire() }}", {"s": Sentinel()})
    assert THEME.text("{{ s.name }} {{ s.label }} {{ r.tags | join('+') }}", {"s": Sentinel(), "r": Record()}) == \
        "sentinel a property is data a+b"
    assert Calls.made == []


def test_keys_win_over_dict_methods():
    """A data key called ``items`` is the data (agenda.items), not dict.items."""
    assert THEME.text("{{ a.items | join(',') }} {{ a.keys() | list | length }}", {"a": {"items": [1, 2]}}) == "1,2 1"


# ----------------------------------------------------------------------------- the call policy
def render_raw(source: str, **context) -> str:
    """Render with the sandbox itself, bypassing plain(): the policy alone must hold."""
    return ThemeSandbox(text=True).from_string(source).render(**context)


@pytest.mark.parametrize("source", [
    "{{ s.fire() }}", "{{ s.build() }}", "{{ r.fire() }}", "{{ s.model_dump() }}", "{{ s.__class__ }}",
    "{{ (s|attr('fire'))() }}", "{{ s['fire']() }}", "{{ [s.fire][0]() }}",
])
def test_methods_of_objects_are_refused_even_without_plain(source):
    Calls.made.clear()
    with pytest.raises(jinja2.sandbox.SecurityError):
        render_raw(source, s=Sentinel(), r=Record())
    assert Calls.made == []


@pytest.mark.parametrize("source, message", [
    ("{{ 'x'.center(9) }}", "access to attribute 'center' of 'str' object is unsafe."),
    ("{{ 'x'.format(1) }}", "access to attribute 'format' of 'str' object is unsafe."),
    ("{{ 'x'.format_map({}) }}", "access to attribute 'format_map' of 'str' object is unsafe."),
    ("{{ [].append(1) }}", "access to attribute 'append' of 'list' object is unsafe."),
    ("{{ {}.update(a=1) }}", "'dict object' has no attribute 'update'"),
    ("{{ {}.pop('a') }}", "'dict object' has no attribute 'pop'"),
    ("{{ cycler(1, 2) }}", "calling 'cycler' is not allowed in a theme template"),
    ("{{ namespace(a=1) }}", "calling 'namespace' is not allowed in a theme template"),
    ("{{ lipsum() }}", "calling 'lipsum' is not allowed in a theme template"),
    ("{{ d.__class__ }}", "access to attribute '__class__' of 'date' object is unsafe."),
    ("{{ d.replace(year=1) }}", "access to attribute 'replace' of 'date' object is unsafe."),
    ("{{ range(3).count(1) }}", "access to attribute 'count' of 'range' object is unsafe."),
])
def test_only_the_allow_list_is_callable(source, message):
    with pytest.raises(ThemeError) as caught:
        THEME.text(source, {"d": dt.date(2005, 3, 16)}, ("words", "x"))
    assert message in str(caught.value)


def test_the_allow_list_works():
    source = ("{{ ' Ab '.strip().upper() }} {{ 'a-b'.split('-') | join('+') }} {{ 'x'.replace('x', 'y') }} "
              "{{ ', '.join(['p', 'q']) }} {{ d.get('k') }} {{ d.items() | list | length }} "
              "{{ when.strftime('%B') }} {{ when.year }} {{ 'ab'.startswith('a') }} "
              "{% for x in range(3) %}{{ loop.index }}{{ loop.cycle('a', 'b') }}{% endfor %} "
              "{% macro m(v) %}[{{ v }}]{% endmacro %}{{ m(1) }} {{ dict(a=1).a }} {{ 3 | ordinal }}")
    assert THEME.text(source, {"d": {"k": "v"}, "when": dt.date(2005, 3, 16)}) == \
        "AB a+b y p, q v 1 March 2005 True 1a2b3a [1] 1 3rd"


def test_a_registered_filter_raising_memory_error_is_a_located_theme_error():
    theme = Theme()
    theme.text_env.add_filter("boom", lambda value: (_ for _ in ()).throw(MemoryError()))
    with pytest.raises(ThemeError) as caught:
        theme.text("{{ 1 | boom }}", {}, ("words", "agenda_title"))
    yaml_file = builtin_theme_dir() / "theme.yaml"
    line = next(n for n, text in enumerate(yaml_file.read_text("utf-8").splitlines(), 1) if "agenda_title:" in text)
    assert str(caught.value) == (f"{yaml_file}:{line}: words.agenda_title: template error: "
                                 "the template needs more memory than there is in '{{ 1 | boom }}'")


# ----------------------------------------------------------------------------- limits
@pytest.mark.parametrize("source", [
    "{{ 9 ** 99999999 }}", "{{ 'x' * 10**9 }}", "{{ [1] * 10**9 }}", "{{ range(10**9) }}", "{{ range(10**100) }}",
    "{{ '%999999999d' % 1 }}", "{{ '%*d' % (10**9, 1) }}", "{{ 'x' | format }}{{ '%.999999999f' | format(1.5) }}",
    "{{ 'x' | center(10**9) }}", "{{ 'a\nb' | indent(10**9) }}", "{{ 'ab' | wordwrap(1, wrapstring='x' * 10**7) }}",
    "{{ [1] | batch(10**9, 0) | list }}", "{{ [1] | slice(10**9) | list }}", "{{ [[1]] * 3 | sum(start=[]) }}",
    "{{ ('x' * 10**6).replace('', 'y' * 100) }}", "{{ ('y' * 10**6).join(['a'] * 100) }}",
    "{{ (' ' * 10**6).split(' ') }}", "{{ ('9' * 3000) | int * ('9' * 3000) | int }}",
    "{% set a = ['x' * 100000] %}{% set b = [a, a, a, a] %}{% set c = [b, b, b, b] %}{% set d = [c, c, c, c] %}"
    "{% set e = [d, d, d, d] %}{% set f = [e, e, e, e] %}{{ f | length }}",
    "{% set a = ('x' * 10**6,) %}{% set b = a + a + a + a %}{% set c = b + b + b + b %}{% set d = c + c + c + c %}",
    "{% set a = {'k': 'x' * 10**7} %}{% set b = {'a': a, 'b': a} %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ " + "[" * 150 + "]" * 150 + " }}",
])
def test_limits_stop_exhausting_templates(source):
    # Smaller limits keep the test quick; the same code paths trip at the real ones.
    with mock.patch.multiple(sandbox, MAX_STEPS=50_000, MAX_SIZE=1_000_000, MAX_RANGE=10_000):
        with pytest.raises(ThemeError):
            THEME.text(source, {}, ("words", "x"))


def test_limits_leave_ordinary_templates_alone():
    assert THEME.text("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ range(5) | list | length }} {{ '%05d' % 42 }} "
                      "{{ ('x' * 100) | length }} {{ 'a\nb' | indent(2) }}", {}) == "1024 ababab 5 00042 100 a b"


# ----------------------------------------------------------------------------- theme files
def test_loader_refuses_a_symlink_out_and_allows_one_inside(tmp_path):
    root = tmp_path / "theme"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("SECRET", encoding="utf-8")
    (root / "real.html").write_text("inside", encoding="utf-8")
    (root / "inside.html").symlink_to(root / "real.html")
    (root / "out.html").symlink_to(tmp_path / "secret.txt")
    env = ThemeSandbox(loader=ThemeLoader([root]))
    assert env.get_template("inside.html").render() == "inside"
    with pytest.raises(ThemeError, match="is a link to a file outside the theme folder"):
        env.get_template("out.html")
    with pytest.raises(ThemeError, match="climbs out of the theme folder"):
        env.get_template("../secret.txt")


def test_theme_file_refuses_climbing_out(tmp_path):
    with pytest.raises(ThemeError, match="climbs out of the theme folder"):
        theme_file(tmp_path, "../etc/passwd")
    assert theme_file(tmp_path, "missing.css") is None


def test_asset_refuses_names_outside_the_theme(tmp_path):
    theme = Theme()
    with pytest.raises(ThemeError, match="climbs out of the theme folder"):
        theme.asset("../../../../etc/passwd")
    assert theme.asset("fonts/LiberationSans-Regular.ttf").startswith("file:///")


# ----------------------------------------------------------------------------- hypothesis
NAMES = ["council", "meeting", "doc", "sentinel", "record", "path", "words", "n", "s", "when", "nothing",
         "self", "loop", "range", "dict", "cycler", "joiner", "namespace", "lipsum", "asset"]
ATTRIBUTES = ["__class__", "__init__", "__globals__", "__mro__", "__subclasses__", "__dict__", "__builtins__",
              "__self__", "__func__", "_private", "mro", "gi_frame", "func_globals", "parse_raw", "parse_file",
              "model_dump", "model_validate", "numbered_labels", "fire", "build", "read_text", "open", "name",
              "items", "keys", "get", "upper", "format", "format_map", "center", "copy", "update", "pop",
              "append", "strftime", "year", "title", "sections", "blocks", "label", "tags"]
LITERALS = ["0", "1", "-1", "7", "10**9", "99999999", "2.5", "'x'", "''", "'%999999d'", "'{0}'", "'a b'",
            "[1, 2]", "{'k': 'v'}", "none", "true", "(1, 'a')", "'/etc/passwd'"]
FILTERS = ["upper", "length", "join", "join(', ')", "center(10**9)", "attr('__class__')", "attr('fire')", "string",
           "list", "map('upper')", "batch(99999999, 0)", "format(1)", "replace('', 'xx')", "indent(99999999)",
           "sum", "first", "tojson", "ordinal", "join_and", "int", "reverse", "sort", "default('d')", "e", "safe",
           "wordcount", "truncate(3)", "dictsort", "items", "unique", "pprint"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "<", "in", "and", "or"]


def expressions():
    atoms = st.sampled_from(NAMES + LITERALS)

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(ATTRIBUTES)).map(lambda t: f"{t[0]}.{t[1]}"),
            st.tuples(inner, st.sampled_from(LITERALS + ["'__class__'", "'fire'"])).map(lambda t: f"{t[0]}[{t[1]}]"),
            st.tuples(inner, st.lists(inner, max_size=2)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            st.tuples(inner, st.sampled_from(FILTERS)).map(lambda t: f"({t[0]} | {t[1]})"),
            st.tuples(inner, st.sampled_from(OPERATORS), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.lists(inner, max_size=3).map(lambda items: f"[{', '.join(items)}]"),
        )

    return st.recursive(atoms, extend, max_leaves=8)


def statements():
    expr = expressions()
    printed = expr.map(lambda e: "{{ %s }}" % e)
    return st.one_of(
        printed, printed, printed,
        expr.map(lambda e: "{%% set v = %s %%}{{ v }}{{ v ~ v }}" % e),
        expr.map(lambda e: "{%% for x in %s %%}{{ x }}{%% for y in %s %%}{{ y }}{%% endfor %%}{%% endfor %%}" % (e, e)),
        expr.map(lambda e: "{%% if %s %%}yes{%% else %%}no{%% endif %%}" % e),
        st.sampled_from(["{% include 'report.html' %}", "{% include s %}", "{% include path %}",
                         "{% import 'blocks.html' as b %}{{ b }}", "{% extends 'report.html' %}",
                         "{% from '_head.html' import meta %}",
                         "{% macro m(a) %}{{ m(a ~ a) }}{% endmacro %}{{ m('x') }}",
                         "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ (", "{% for %}",
                         "{{ x | nosuchfilter }}",
                         "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}", "{{ self.__init__ }}",
                         "{{ ''.__class__.__mro__[1].__subclasses__() }}"]),
    )


ALLOWED_METHOD_OWNERS = (str, dict, dt.date, jinja2.runtime.LoopContext)


@pytest.fixture(scope="module", autouse=True)
def _earlier_objects_frozen():
    """Hide what earlier modules left alive from the collector while this module runs.

    ``watched`` collects garbage before each watch; in a full run the heap holds millions of
    live objects from earlier modules and each collection took ~0.6 s (150 examples: ~100 s).
    Frozen objects are ones that were alive after a full collection, so no garbage is hidden;
    one that ends up in a garbage cycle meanwhile is collected after the module, never inside a
    watch (the collector is disabled there anyway).
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@contextmanager
def watched(secret: Path):
    """Record every callable the sandbox lets a template call, and every file opened."""
    called, opened = [], []
    real_call, real_open, real_os_open = jinja2.runtime.Context.call, builtins.open, os.open

    def spy_call(__self, __obj, *args, **kwargs):
        called.append(__obj)
        return real_call(__self, __obj, *args, **kwargs)

    def spy_open(file, *args, **kwargs):
        opened.append(file)
        return real_open(file, *args, **kwargs)

    def spy_os_open(path, *args, **kwargs):
        opened.append(path)
        return real_os_open(path, *args, **kwargs)

    # Garbage from earlier tests (a WeasyPrint font configuration removing its temporary folder
    # in __del__) must not be collected inside the watch: those opens are not the template's.
    gc.collect()
    gc.disable()
    try:
        with mock.patch.object(jinja2.runtime.Context, "call", spy_call), \
                mock.patch.object(builtins, "open", spy_open), mock.patch.object(io, "open", spy_open), \
                mock.patch.object(os, "open", spy_os_open):
            yield called, opened
    finally:
        gc.enable()


def allowed_callable(obj) -> bool:
    """An independent statement of the allow-list: macros, blocks, undefined, the bounded globals,
    and read-only methods of plain data types."""
    if isinstance(obj, (jinja2.runtime.Macro, jinja2.runtime.BlockReference, jinja2.runtime.Undefined)):
        return True
    if obj in (sandbox._bounded_range, sandbox._plain_dict):
        return True
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    return isinstance(owner, ALLOWED_METHOD_OWNERS) and name in (
        sandbox.STR_METHODS | sandbox.DICT_METHODS | sandbox.DATE_METHODS | sandbox.LOOP_METHODS)


@pytest.fixture(scope="module")
def hostile_context(tmp_path_factory):
    secret = tmp_path_factory.mktemp("secret") / "secret.txt"
    secret.write_text("SECRET-TOKEN-55aa", encoding="utf-8")
    report = load_report(DUDLEY)
    context = {"council": report.council, "meeting": report.meeting, "doc": build(report, THEME),
               "sentinel": Sentinel(), "record": Record(), "path": secret, "words": THEME.config.words, "n": 7,
               "s": "text", "when": dt.date(2005, 3, 16)}
    return secret, context


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=st.lists(statements(), min_size=1, max_size=3).map("".join))
def test_random_templates_give_text_or_a_theme_error_and_reach_nothing(hostile_context, template):
    secret, context = hostile_context
    Calls.made.clear()
    with mock.patch.multiple(sandbox, MAX_STEPS=20_000, MAX_SIZE=200_000, MAX_RANGE=1_000, MAX_OUTPUT=400_000):
        with watched(secret) as (called, opened):
            try:
                out = THEME.text(template, context, ("words", "agenda_title"))
            except ThemeError as exc:
                lines = exc.lines()
                assert len(lines) == 1 and "\n" not in lines[0]
                assert "theme.yaml" in lines[0] and "words.agenda_title" in lines[0]
                out = lines[0]
    assert Calls.made == [], template
    assert [obj for obj in called if not allowed_callable(obj)] == [], template
    assert opened == [], template
    assert "SECRET-TOKEN-55aa" not in out


def test_control_the_instruments_see_a_call_and_a_file_read(hostile_context):
    """Control: without plain() and the allow-list (Jinja's own sandbox), the same watch sees both."""
    secret, context = hostile_context
    Calls.made.clear()
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    with watched(secret) as (called, opened):
        out = env.from_string("{{ sentinel.fire() }} {{ path.read_text() }}").render(context)
    assert Calls.made == ["Sentinel.fire"]
    assert [obj for obj in called if not allowed_callable(obj)]
    assert opened and "SECRET-TOKEN-55aa" in out
