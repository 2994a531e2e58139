/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Ping { __typename }\n": typeof types.PingDocument,
    "\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount }\n  }\n": typeof types.PointChargeConfigDocument,
    "\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n": typeof types.MeDocument,
    "\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id merchantUid impUid amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n": typeof types.ChargeOrdersDocument,
    "\n  fragment HistoryEntry on PointTransaction { _id impUid amount balance status statusDetail createdAt }\n": typeof types.HistoryEntryFragmentDoc,
    "\n  query HistoryAll($page: Int!) { fetchPointTransactions(page: $page) { ...HistoryEntry } }\n": typeof types.HistoryAllDocument,
    "\n  query HistoryLoading($page: Int!) { fetchPointTransactionsOfLoading(page: $page) { ...HistoryEntry } }\n": typeof types.HistoryLoadingDocument,
    "\n  query HistoryBuying($page: Int!) { fetchPointTransactionsOfBuying(page: $page) { ...HistoryEntry } }\n": typeof types.HistoryBuyingDocument,
    "\n  query HistorySelling($page: Int!) { fetchPointTransactionsOfSelling(page: $page) { ...HistoryEntry } }\n": typeof types.HistorySellingDocument,
    "\n  query HistoryCounts {\n    fetchPointTransactionsCountOfLoading\n    fetchPointTransactionsCountOfBuying\n    fetchPointTransactionsCountOfSelling\n  }\n": typeof types.HistoryCountsDocument,
    "\n  mutation SignUp($input: CreateUserInput!) { createUser(createUserInput: $input) { _id } }\n": typeof types.SignUpDocument,
    "\n  mutation Login($email: String!, $password: String!) { loginUser(email: $email, password: $password) { accessToken } }\n": typeof types.LoginDocument,
    "\n  mutation Restore { restoreAccessToken { accessToken } }\n": typeof types.RestoreDocument,
    "\n  mutation Logout { logoutUser }\n": typeof types.LogoutDocument,
    "\n  mutation Prepare($amount: Int!) { preparePointCharge(amount: $amount) { merchantUid amount } }\n": typeof types.PrepareDocument,
    "\n  mutation Charge($impUid: ID!) { createPointTransactionOfLoading(impUid: $impUid) { _id amount balance } }\n": typeof types.ChargeDocument,
    "\n  mutation Cancel($impUid: ID!, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n": typeof types.CancelDocument,
};
const documents: Documents = {
    "\n  query Ping { __typename }\n": types.PingDocument,
    "\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount }\n  }\n": types.PointChargeConfigDocument,
    "\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n": types.MeDocument,
    "\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id merchantUid impUid amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n": types.ChargeOrdersDocument,
    "\n  fragment HistoryEntry on PointTransaction { _id impUid amount balance status statusDetail createdAt }\n": types.HistoryEntryFragmentDoc,
    "\n  query HistoryAll($page: Int!) { fetchPointTransactions(page: $page) { ...HistoryEntry } }\n": types.HistoryAllDocument,
    "\n  query HistoryLoading($page: Int!) { fetchPointTransactionsOfLoading(page: $page) { ...HistoryEntry } }\n": types.HistoryLoadingDocument,
    "\n  query HistoryBuying($page: Int!) { fetchPointTransactionsOfBuying(page: $page) { ...HistoryEntry } }\n": types.HistoryBuyingDocument,
    "\n  query HistorySelling($page: Int!) { fetchPointTransactionsOfSelling(page: $page) { ...HistoryEntry } }\n": types.HistorySellingDocument,
    "\n  query HistoryCounts {\n    fetchPointTransactionsCountOfLoading\n    fetchPointTransactionsCountOfBuying\n    fetchPointTransactionsCountOfSelling\n  }\n": types.HistoryCountsDocument,
    "\n  mutation SignUp($input: CreateUserInput!) { createUser(createUserInput: $input) { _id } }\n": types.SignUpDocument,
    "\n  mutation Login($email: String!, $password: String!) { loginUser(email: $email, password: $password) { accessToken } }\n": types.LoginDocument,
    "\n  mutation Restore { restoreAccessToken { accessToken } }\n": types.RestoreDocument,
    "\n  mutation Logout { logoutUser }\n": types.LogoutDocument,
    "\n  mutation Prepare($amount: Int!) { preparePointCharge(amount: $amount) { merchantUid amount } }\n": types.PrepareDocument,
    "\n  mutation Charge($impUid: ID!) { createPointTransactionOfLoading(impUid: $impUid) { _id amount balance } }\n": types.ChargeDocument,
    "\n  mutation Cancel($impUid: ID!, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n": types.CancelDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Ping { __typename }\n"): (typeof documents)["\n  query Ping { __typename }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount }\n  }\n"): (typeof documents)["\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n"): (typeof documents)["\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id merchantUid impUid amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n"): (typeof documents)["\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id merchantUid impUid amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment HistoryEntry on PointTransaction { _id impUid amount balance status statusDetail createdAt }\n"): (typeof documents)["\n  fragment HistoryEntry on PointTransaction { _id impUid amount balance status statusDetail createdAt }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HistoryAll($page: Int!) { fetchPointTransactions(page: $page) { ...HistoryEntry } }\n"): (typeof documents)["\n  query HistoryAll($page: Int!) { fetchPointTransactions(page: $page) { ...HistoryEntry } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HistoryLoading($page: Int!) { fetchPointTransactionsOfLoading(page: $page) { ...HistoryEntry } }\n"): (typeof documents)["\n  query HistoryLoading($page: Int!) { fetchPointTransactionsOfLoading(page: $page) { ...HistoryEntry } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HistoryBuying($page: Int!) { fetchPointTransactionsOfBuying(page: $page) { ...HistoryEntry } }\n"): (typeof documents)["\n  query HistoryBuying($page: Int!) { fetchPointTransactionsOfBuying(page: $page) { ...HistoryEntry } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HistorySelling($page: Int!) { fetchPointTransactionsOfSelling(page: $page) { ...HistoryEntry } }\n"): (typeof documents)["\n  query HistorySelling($page: Int!) { fetchPointTransactionsOfSelling(page: $page) { ...HistoryEntry } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query HistoryCounts {\n    fetchPointTransactionsCountOfLoading\n    fetchPointTransactionsCountOfBuying\n    fetchPointTransactionsCountOfSelling\n  }\n"): (typeof documents)["\n  query HistoryCounts {\n    fetchPointTransactionsCountOfLoading\n    fetchPointTransactionsCountOfBuying\n    fetchPointTransactionsCountOfSelling\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SignUp($input: CreateUserInput!) { createUser(createUserInput: $input) { _id } }\n"): (typeof documents)["\n  mutation SignUp($input: CreateUserInput!) { createUser(createUserInput: $input) { _id } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($email: String!, $password: String!) { loginUser(email: $email, password: $password) { accessToken } }\n"): (typeof documents)["\n  mutation Login($email: String!, $password: String!) { loginUser(email: $email, password: $password) { accessToken } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Restore { restoreAccessToken { accessToken } }\n"): (typeof documents)["\n  mutation Restore { restoreAccessToken { accessToken } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout { logoutUser }\n"): (typeof documents)["\n  mutation Logout { logoutUser }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Prepare($amount: Int!) { preparePointCharge(amount: $amount) { merchantUid amount } }\n"): (typeof documents)["\n  mutation Prepare($amount: Int!) { preparePointCharge(amount: $amount) { merchantUid amount } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Charge($impUid: ID!) { createPointTransactionOfLoading(impUid: $impUid) { _id amount balance } }\n"): (typeof documents)["\n  mutation Charge($impUid: ID!) { createPointTransactionOfLoading(impUid: $impUid) { _id amount balance } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Cancel($impUid: ID!, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n"): (typeof documents)["\n  mutation Cancel($impUid: ID!, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;