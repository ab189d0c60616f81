"""mypy plugin: makes ``pl.Expr.fhe`` known to type checkers.

Polars resolves registered namespaces at run time through ``Expr.__getattr__``, which it hides
from type checkers, so ``pl.col("x").fhe`` is an error under mypy. Enable this plugin with::

    [tool.mypy]
    plugins = ["iocz.mypy_plugin"]

It gives every class decorated with ``@pl.api.register_expr_namespace(name)`` in iocz's
namespace modules an attribute ``name`` on ``polars.Expr`` of that class's type. It also makes
``polars.expr.expr`` depend on those modules, so both land in one import cycle and mypy's
incremental cache stores ``Expr`` together with the added attribute.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import MDEF, CallExpr, MypyFile, StrExpr, SymbolTableNode, TypeInfo, Var
from mypy.plugin import ClassDefContext, Plugin
from mypy.types import Instance

_DECORATOR = "polars.api.register_expr_namespace"
_EXPR_MODULE = "polars.expr.expr"
_EXPR = f"{_EXPR_MODULE}.Expr"
#: Modules whose namespaces are added to ``Expr`` (and that ``Expr`` is made to depend on).
NAMESPACE_MODULES = ("iocz.expr",)


def _add_namespace(ctx: ClassDefContext) -> bool:
    """Class decorator hook: ``Expr.<name>: <decorated class>``. False asks for another pass."""
    if ctx.cls.info.module_name not in NAMESPACE_MODULES:
        return True
    call = ctx.reason
    if not (isinstance(call, CallExpr) and call.args and isinstance(call.args[0], StrExpr)):
        return True
    name = call.args[0].value
    node = ctx.api.lookup_fully_qualified_or_none(_EXPR)
    if node is None or not isinstance(node.node, TypeInfo):
        return False
    expr_info = node.node
    if name not in expr_info.names:
        var = Var(name, Instance(ctx.cls.info, []))
        var.info = expr_info
        var._fullname = f"{_EXPR}.{name}"
        var.is_property = True
        expr_info.names[name] = SymbolTableNode(MDEF, var, plugin_generated=True)
    return True


class IoczPlugin(Plugin):
    """Adds iocz's expression namespaces to ``polars.Expr``."""

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        """``polars.expr.expr`` → iocz's namespace modules (one cycle, cached together)."""
        return [(10, module, -1) for module in NAMESPACE_MODULES] if file.fullname == _EXPR_MODULE else []

    def get_class_decorator_hook_2(self, fullname: str) -> Callable[[ClassDefContext], bool] | None:
        """The hook for ``@pl.api.register_expr_namespace(...)``."""
        return _add_namespace if fullname == _DECORATOR else None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return IoczPlugin
