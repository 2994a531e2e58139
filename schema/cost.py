"""What a document costs, refused before it runs when it costs more than the caller's budget.

Depth, alias and token limits bound a document's size, not its work: 29 aliases of a page of items,
each nesting seller → userPoint → user → … twelve levels deep, fit all of them and made thousands of
reads (issue 23). The cost counts the work instead, from the document alone (so it is known before
anything runs, and cached per document text):

- every field costs ``FIELD_COST``, unknown and future fields included, so no field is ever free;
  introspection (``__typename``, ``__schema``, ``__type``) costs nothing (production refuses
  ``__schema``/``__type`` outright; GraphiQL needs them in sandbox mode);
- a field's selection counts once per row it can return: ``PAGE_SIZE`` for any field with a
  ``page`` argument, its ``first`` argument for cursor pages (the most it allows when ``first`` is a
  variable), a size from ``LIST_SIZES`` for lists with neither, ``DEFAULT_LIST_SIZE`` for any other
  list;
- fragments and inline fragments count where they are spread (each fragment walked once), aliases
  count as the fields they are; a document with several operations costs its dearest.

The guards (schema/guards.py) check it before validation, so a refused document costs its parse and
this walk (about a millisecond for the largest document the token limit lets through), not the
validation rules' pass; a caller without a valid access token gets the lower budget.
"""

from __future__ import annotations

from collections import OrderedDict

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from services import history, items
from services.billing import cards
from services.errors import DEFAULT_MESSAGES, Code

FIELD_COST = 1
PAGE_SIZE = items.PAGE_SIZE  # every `page` argument of the API pages by 10 (history.PAGE_SIZE too)
MAX_FIRST = history.MAX_FIRST
DEFAULT_LIST_SIZE = 10
# Deeper than the parser's nesting limit allows without fragments, far deeper than the depth rule's.
MAX_WALK_DEPTH = 200
# Lists without a `page` or `first` argument, by "Type.field".
LIST_SIZES: dict[str, int] = {
    "Query.fetchUseditemsOfTheBest": items.BEST_COUNT,
    "Query.fetchPointChargeOrders": 20,  # services.charging: the 20 latest orders
    "Query.fetchPaymentCards": cards.MAX_ACTIVE_CARDS,  # services.billing.cards: active cards only
    "PointTransactionPage.items": 1,  # fetchPointTransactionsByCursor's `first` already counted them
}


def _rows(parent: str, name: str, node: FieldNode, definition: GraphQLField) -> int:
    size = LIST_SIZES.get(f"{parent}.{name}")
    if size is not None:
        return size
    if "first" in definition.args:
        given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        if given is None:  # not given: its default
            default = definition.args["first"].default_value
            return default if isinstance(default, int) and 1 <= default <= MAX_FIRST else MAX_FIRST
        if isinstance(given, IntValueNode) and 1 <= int(given.value) <= MAX_FIRST:
            return int(given.value)
        return MAX_FIRST  # a variable, or a value the resolver refuses anyway
    if "page" in definition.args:
        return PAGE_SIZE
    return DEFAULT_LIST_SIZE if is_list_type(get_nullable_type(definition.type)) else 1  # type: ignore[arg-type]


class _TooDeep(Exception):
    pass


class _Walk:
    """Runs before validation (a refused document skips it), so it takes any parsed document:
    unknown fields and types, undefined or cyclic fragments, fragments nested past any depth."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.fragment_costs: dict[str, int] = {}

    def selections(self, parent: GraphQLNamedType | None, selection_set: SelectionSetNode, depth: int) -> int:
        if depth > MAX_WALK_DEPTH:
            raise _TooDeep
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, depth)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(on, selection.selection_set, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, depth)
        return total

    def fragment(self, name: str, depth: int) -> int:
        # Walked once wherever it is spread: a fragment's cost does not depend on where it is.
        if name not in self.fragment_costs:
            self.fragment_costs[name] = 0  # a cycle counts nothing here; NoFragmentCycles refuses it
            definition = self.fragments.get(name)
            if definition is not None:
                on = self.schema.get_type(definition.type_condition.name.value)
                self.fragment_costs[name] = self.selections(on, definition.selection_set, depth + 1)
        return self.fragment_costs[name]

    def field(self, parent: GraphQLNamedType | None, node: FieldNode, depth: int) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:  # unknown: the validation rules refuse it; never free meanwhile
            return FIELD_COST
        if node.selection_set is None:
            return FIELD_COST
        inner = self.selections(get_named_type(definition.type), node.selection_set, depth + 1)
        return FIELD_COST + _rows(parent.name, name, node, definition) * inner  # type: ignore[union-attr]


def operation_costs(schema: GraphQLSchema, document: DocumentNode) -> dict[str, int] | None:
    """Each operation's cost, by name ("" for an anonymous one); None when fragments nest deeper
    than the walk goes (the depth rule refuses such a document)."""
    walk = _Walk(schema, document)
    costs: dict[str, int] = {}
    try:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = schema.get_root_type(definition.operation)
                name = definition.name.value if definition.name else ""
                costs[name] = walk.selections(root, definition.selection_set, 0)
    except _TooDeep:
        return None
    return costs


def document_cost(schema: GraphQLSchema, document: DocumentNode) -> int | None:
    costs = operation_costs(schema, document)
    return None if costs is None else max(costs.values(), default=0)


def too_complex(cost: int, max_cost: int) -> GraphQLError:
    message = f"{DEFAULT_MESSAGES[Code.QUERY_TOO_COMPLEX]} (비용 {cost:,}, 한도 {max_cost:,})"
    return GraphQLError(message, extensions={"code": Code.QUERY_TOO_COMPLEX, "cost": cost, "maxCost": max_cost})


class CostCache:
    """Document text → cost, for the guards (schema/guards.py), bounded like Strawberry's parse and
    validation caches so that endless distinct documents cannot grow memory."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._costs: OrderedDict[str, int | None] = OrderedDict()

    def cost(self, schema: GraphQLSchema, text: str, document: DocumentNode) -> int | None:
        if text in self._costs:
            self._costs.move_to_end(text)
            return self._costs[text]
        cost = self._costs[text] = document_cost(schema, document)
        if len(self._costs) > self.maxsize:
            self._costs.popitem(last=False)
        return cost
