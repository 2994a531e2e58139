"""The GraphQL schema: types, queries and mutations over the services layer."""

from __future__ import annotations

from functools import partial

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig

from schema.errors import Schema
from schema.observability import Observability
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
    # The depth and alias rules are the ones QueryDepthLimiter/MaxAliasesLimiter install, built once
    # here: those extensions create a new rule class per instance, i.e. per operation, and the rule
    # classes are part of ValidationCache's key, so it never hit (every request re-validated).
    rules: list = [
        max_depth_rule(settings.graphql_max_depth, None, None),
        max_aliases_rule(settings.graphql_max_aliases),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list = [
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(ParserCache, maxsize=size),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=size),
        Observability,  # names the operation for logs and metrics
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )
