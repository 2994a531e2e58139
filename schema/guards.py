"""What every operation goes through before it runs, as one schema extension.

It does what Strawberry's ``MaxTokensLimiter``, ``AddValidationRules``, ``ParserCache`` and
``ValidationCache`` do, refuses documents over the cost budget (``schema.cost``), and names the
operation for logs and metrics (``schema.observability``).
As five extensions they cost more than the charge mutation's own execution: Strawberry builds
every extension and wraps each of its hooks in a fresh context manager on every operation
(about a tenth of a charge's CPU; docs/PERFORMANCE.md). The caches are Strawberry's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import ASTValidationRule, DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension

from schema.cost import CostCache, too_complex
from schema.observability import label_operation


class OperationGuards(SchemaExtension):
    """Pass as a factory (``functools.partial``): Strawberry builds one per operation.

    ``parse`` and ``validate`` are Strawberry's own cached functions, the process-wide bounded LRUs
    behind its ``ParserCache`` and ``ValidationCache`` (``build_schema`` takes them from there)."""

    def __init__(
        self,
        *,
        max_tokens: int,
        rules: tuple[type[ASTValidationRule], ...],
        max_cost: int,
        max_cost_anonymous: int,
        costs: CostCache,
        parse: Callable[..., DocumentNode],
        validate: Callable[..., list[GraphQLError]],
    ) -> None:
        self.max_tokens = max_tokens
        self.rules = rules
        self.max_cost = max_cost
        self.max_cost_anonymous = max_cost_anonymous
        self.costs = costs
        self.parse = parse
        self.validate = validate

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        # Parsing stops at this many tokens (a huge document costs nothing to refuse), and the
        # depth, alias and introspection rules join Strawberry's. The rule classes are built once
        # per schema: they are part of the validation cache's key.
        ec.parse_options["max_tokens"] = self.max_tokens
        ec.validation_rules = ec.validation_rules + self.rules
        yield

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        ec.graphql_document = self.parse(ec.query, **ec.parse_options)
        yield
        label_operation(ec)

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        # The cost first (schema/cost.py): a document over the caller's budget is refused without
        # the validation pass, which costs tens of times more than the walk on a big document.
        # No valid access token (the context decoded it already, for the log): the lower budget.
        assert ec.query is not None and ec.graphql_document is not None
        cost = self.costs.cost(ec.schema._schema, ec.query, ec.graphql_document)
        logged_in = getattr(ec.context, "user_id", None) is not None
        max_cost = self.max_cost if logged_in else self.max_cost_anonymous
        if cost is not None and cost > max_cost:
            ec.pre_execution_errors = [too_complex(cost, max_cost)]
        else:
            ec.pre_execution_errors = self.validate(ec.schema._schema, ec.graphql_document, ec.validation_rules)
        yield

