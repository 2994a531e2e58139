"""The GraphQL schema: types, queries and mutations over the services layer."""

from __future__ import annotations

from functools import partial

import strawberry
from graphql import BREAK, GraphQLError, SelectionSetNode, Visitor, visit
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig

from schema.cost import CostCache
from schema.errors import Schema
from schema.guards import OperationGuards
from schema.mutations.create_user import CreateUserMutation
from schema.mutations.login_user import LoginUserMutation
from schema.mutations.logout_user import LogoutUserMutation
from schema.mutations.reset_user_password import ResetUserPasswordMutation
from schema.mutations.restore_access_token import RestoreAccessTokenMutation
from schema.mutations.update_user import UpdateUserMutation
from schema.mutations.cancel_point_transaction import CancelPointTransactionMutation
from schema.mutations.create_point_transaction_of_loading import CreatePointTransactionOfLoadingMutation
from schema.mutations.prepare_point_charge import PreparePointChargeMutation
from schema.mutations.create_useditem import CreateUseditemMutation
from schema.mutations.update_useditem import UpdateUseditemMutation
from schema.mutations.delete_useditem import DeleteUseditemMutation
from schema.mutations.toggle_useditem_pick import ToggleUseditemPickMutation
from schema.mutations.create_point_transaction_of_buying_and_selling import (
    CreatePointTransactionOfBuyingAndSellingMutation,
)
from schema.mutations.create_useditem_question import CreateUseditemQuestionMutation
from schema.mutations.update_useditem_question import UpdateUseditemQuestionMutation
from schema.mutations.delete_useditem_question import DeleteUseditemQuestionMutation
from schema.mutations.create_useditem_question_answer import CreateUseditemQuestionAnswerMutation
from schema.mutations.update_useditem_question_answer import UpdateUseditemQuestionAnswerMutation
from schema.mutations.delete_useditem_question_answer import DeleteUseditemQuestionAnswerMutation
from schema.file_types import FileQueries
from schema.mutations.upload_file import UploadFileMutation
from schema.mutations.prepare_payment_card import PreparePaymentCardMutation
from schema.mutations.register_payment_card import RegisterPaymentCardMutation
from schema.mutations.delete_payment_card import DeletePaymentCardMutation
from schema.mutations.create_point_transaction_of_loading_with_card import (
    CreatePointTransactionOfLoadingWithCardMutation,
)
from schema.mutations.create_point_subscription import CreatePointSubscriptionMutation
from schema.mutations.cancel_point_subscription import CancelPointSubscriptionMutation
from schema.queries.payment_cards import PaymentCardQueries
from schema.queries.point_subscriptions import PointSubscriptionQueries
from schema.queries.points import PointQueries
from schema.queries.questions import QuestionQueries
from schema.queries.users import UserQueries
from schema.queries.useditems import UseditemQueries
from services.settings import Settings


@strawberry.type
class Query(
    UserQueries, PointQueries, UseditemQueries, QuestionQueries, FileQueries, PaymentCardQueries,
    PointSubscriptionQueries,
):
    pass


@strawberry.type
class Mutation(
    CreateUserMutation,
    LoginUserMutation,
    RestoreAccessTokenMutation,
    LogoutUserMutation,
    UpdateUserMutation,
    ResetUserPasswordMutation,
    PreparePointChargeMutation,
    CreatePointTransactionOfLoadingMutation,
    CancelPointTransactionMutation,
    CreateUseditemMutation,
    UpdateUseditemMutation,
    DeleteUseditemMutation,
    ToggleUseditemPickMutation,
    CreatePointTransactionOfBuyingAndSellingMutation,
    CreateUseditemQuestionMutation,
    UpdateUseditemQuestionMutation,
    DeleteUseditemQuestionMutation,
    CreateUseditemQuestionAnswerMutation,
    UpdateUseditemQuestionAnswerMutation,
    DeleteUseditemQuestionAnswerMutation,
    UploadFileMutation,
    PreparePaymentCardMutation,
    RegisterPaymentCardMutation,
    DeletePaymentCardMutation,
    CreatePointTransactionOfLoadingWithCardMutation,
    CreatePointSubscriptionMutation,
    CancelPointSubscriptionMutation,
):
    pass


class _EmptySelectionSet(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: SelectionSetNode | None = None

    def enter_selection_set(self, node: SelectionSetNode, *_: object) -> object:
        if not node.selections:
            self.found = node
            return BREAK
        return None


def depth_rule(max_depth: int) -> type[ASTValidationRule]:
    """Strawberry's depth rule, minus a crash: graphql-core parses an empty selection set
    (``items { }``) and the rule's ``max()`` over its fields raised ValueError, a masked
    INTERNAL_SERVER_ERROR (found by the fuzzer). GraphQL requires at least one field there, so such
    a document is refused as invalid instead, and the depth is measured only on the others."""
    limiter = max_depth_rule(max_depth, None, None)

    class DepthLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            empty = _EmptySelectionSet()
            visit(context.document, empty)
            if empty.found is not None:
                context.report_error(GraphQLError("Selection sets must not be empty.", empty.found))
            else:
                limiter(context)  # it measures and reports in its constructor

    return DepthLimit


def build_schema(settings: Settings) -> Schema:
    # The depth and alias rules are the ones QueryDepthLimiter/MaxAliasesLimiter install, built once
    # here: those extensions create a new rule class per instance, i.e. per operation, and the rule
    # classes are part of the validation cache's key, so it never hit (every request re-validated).
    rules: list = [
        depth_rule(settings.graphql_max_depth),
        max_aliases_rule(settings.graphql_max_aliases),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    # A factory: Strawberry builds a fresh extension per operation. The parse and validation
    # caches are Strawberry's, bounded, so endless distinct documents cannot grow memory.
    size = settings.graphql_cache_size
    guards = partial(
        OperationGuards,
        max_tokens=settings.graphql_max_tokens,
        rules=tuple(rules),
        max_cost=settings.graphql_max_cost,
        max_cost_anonymous=settings.graphql_max_cost_anonymous,
        costs=CostCache(size),
        parse=ParserCache(maxsize=size).cached_parse_document,
        validate=ValidationCache(maxsize=size).cached_validate_document,
    )
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=[guards],
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
