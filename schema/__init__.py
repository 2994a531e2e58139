"""The GraphQL schema: types, queries and mutations over the services layer."""

from __future__ import annotations

from functools import partial

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.errors import Schema
from schema.mutations.create_user import CreateUserMutation
from schema.mutations.login_user import LoginUserMutation
from schema.mutations.logout_user import LogoutUserMutation
from schema.mutations.reset_user_password import ResetUserPasswordMutation
from schema.mutations.restore_access_token import RestoreAccessTokenMutation
from schema.mutations.update_user import UpdateUserMutation
from schema.mutations.cancel_point_transaction import CancelPointTransactionMutation
from schema.mutations.create_point_transaction_of_loading import CreatePointTransactionOfLoadingMutation
from schema.mutations.prepare_point_charge import PreparePointChargeMutation
from schema.queries.points import PointQueries
from schema.queries.users import UserQueries
from services.settings import Settings


@strawberry.type
class Query(UserQueries, PointQueries):
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
):
    pass


def build_schema(settings: Settings) -> Schema:
    size = settings.graphql_cache_size
    # Extensions are passed as classes/factories: Strawberry builds fresh ones per operation.
    # The caches' LRU stores are shared across instances of the same size, and bounded, so an
    # attacker sending endless distinct documents cannot grow memory.
    extensions: list = [
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(ParserCache, maxsize=size),
        partial(QueryDepthLimiter, max_depth=settings.graphql_max_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.graphql_max_aliases),
    ]
    if not settings.introspection:
        extensions.append(partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    extensions.append(partial(ValidationCache, maxsize=size))
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
