"""The IR: the one description of a model that every engine and exporter reads."""
from .expr import (FALSE, TRUE, Const, Expr, ExprLike, Ite, Op, Read, all_of, any_of, evaluate, implies, ite, lift,
                   slots_read, walk)
from .facts import value_range
from .reference import interpret_successors
from .system import (BOOL, BoundExceeded, SystemFacts, Action, ActionProperty, Assign, Builder, Check, Domain, Invariant, LeadsTo,
                     NoDeadlock, NoHang, Property, Sometimes, Symmetry, System, ThreadGroup, Var, assign, enum)

__all__ = [name for name in dir() if not name.startswith("_")]
