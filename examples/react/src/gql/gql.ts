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
    "\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount gateways bootpayApplicationId storeId }\n  }\n": typeof types.PointChargeConfigDocument,
    "\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n": typeof types.MeDocument,
    "\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id gateway merchantUid impUid receiptId amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n": typeof types.ChargeOrdersDocument,
    "\n  fragment HistoryEntry on PointTransaction { _id gateway impUid amount balance status statusDetail createdAt }\n": typeof types.HistoryEntryFragmentDoc,
    "\n  query HistoryAll($page: Int!) { fetchPointTransactions(page: $page) { ...HistoryEntry } }\n": typeof types.HistoryAllDocument,
    "\n  query HistoryLoading($page: Int!) { fetchPointTransactionsOfLoading(page: $page) { ...HistoryEntry } }\n": typeof types.HistoryLoadingDocument,
    "\n  query HistoryBuying($page: Int!) { fetchPointTransactionsOfBuying(page: $page) { ...HistoryEntry } }\n": typeof types.HistoryBuyingDocument,
    "\n  query HistorySelling($page: Int!) { fetchPointTransactionsOfSelling(page: $page) { ...HistoryEntry } }\n": typeof types.HistorySellingDocument,
    "\n  query HistoryCounts {\n    fetchPointTransactionsCountOfLoading\n    fetchPointTransactionsCountOfBuying\n    fetchPointTransactionsCountOfSelling\n  }\n": typeof types.HistoryCountsDocument,
    "\n  mutation SignUp($input: CreateUserInput!) { createUser(createUserInput: $input) { _id } }\n": typeof types.SignUpDocument,
    "\n  mutation Login($email: String!, $password: String!) { loginUser(email: $email, password: $password) { accessToken } }\n": typeof types.LoginDocument,
    "\n  mutation Restore { restoreAccessToken { accessToken } }\n": typeof types.RestoreDocument,
    "\n  mutation Logout { logoutUser }\n": typeof types.LogoutDocument,
    "\n  mutation Prepare($amount: Int!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, gateway: $gateway) { merchantUid amount gateway }\n  }\n": typeof types.PrepareDocument,
    "\n  mutation Charge($impUid: ID, $receiptId: ID) {\n    createPointTransactionOfLoading(impUid: $impUid, receiptId: $receiptId) { _id amount balance }\n  }\n": typeof types.ChargeDocument,
    "\n  mutation Cancel($impUid: ID, $receiptId: ID, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, receiptId: $receiptId, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n": typeof types.CancelDocument,
    "\n  query FileConfig { fetchFileConfig { publicBase maxBytes } }\n": typeof types.FileConfigDocument,
    "\n  query Items($page: Int) {\n    fetchUseditems(page: $page) { _id name remarks price images soldAt seller { _id name } }\n  }\n": typeof types.ItemsDocument,
    "\n  query Item($id: ID!) {\n    fetchUseditem(useditemId: $id) {\n      _id name remarks contents price images soldAt createdAt seller { _id name } buyer { _id name }\n    }\n  }\n": typeof types.ItemDocument,
    "\n  mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id url size } }\n": typeof types.UploadFileDocument,
    "\n  mutation CreateItem($input: CreateUseditemInput!) { createUseditem(createUseditemInput: $input) { _id } }\n": typeof types.CreateItemDocument,
    "\n  mutation UpdatePrice($id: ID!, $price: Int!) {\n    updateUseditem(useditemId: $id, updateUseditemInput: { price: $price }) { _id price }\n  }\n": typeof types.UpdatePriceDocument,
    "\n  mutation Buy($id: ID!, $expectedPrice: Int) {\n    createPointTransactionOfBuyingAndSelling(useritemId: $id, expectedPrice: $expectedPrice) {\n      _id price soldAt buyer { _id name }\n    }\n  }\n": typeof types.BuyDocument,
    "\n  query Questions($itemId: ID!) {\n    fetchUseditemQuestions(useditemId: $itemId, page: 1) { _id contents createdAt user { _id name } }\n  }\n": typeof types.QuestionsDocument,
    "\n  query Answers($questionId: ID!) {\n    fetchUseditemQuestionAnswers(useditemQuestionId: $questionId, page: 1) { _id contents createdAt user { _id name } }\n  }\n": typeof types.AnswersDocument,
    "\n  mutation Ask($itemId: ID!, $contents: String!) {\n    createUseditemQuestion(useditemId: $itemId, createUseditemQuestionInput: { contents: $contents }) { _id }\n  }\n": typeof types.AskDocument,
    "\n  mutation Answer($questionId: ID!, $contents: String!) {\n    createUseditemQuestionAnswer(useditemQuestionId: $questionId, createUseditemQuestionAnswerInput: { contents: $contents }) { _id }\n  }\n": typeof types.AnswerDocument,
    "\n  fragment CardFields on PaymentCard { _id cardName cardNumber version createdAt }\n": typeof types.CardFieldsFragmentDoc,
    "\n  query PaymentCards { fetchPaymentCards { ...CardFields } }\n": typeof types.PaymentCardsDocument,
    "\n  mutation PrepareCard { preparePaymentCard { customerUid customerId merchantUid pg amount name payMethod } }\n": typeof types.PrepareCardDocument,
    "\n  mutation PrepareCardV2 {\n    preparePaymentCard(version: V2) { customerId storeId channelKey issueId issueName billingKeyMethod }\n  }\n": typeof types.PrepareCardV2Document,
    "\n  mutation RegisterCard($customerUid: ID, $billingKey: ID) {\n    registerPaymentCard(customerUid: $customerUid, billingKey: $billingKey) { ...CardFields }\n  }\n": typeof types.RegisterCardDocument,
    "\n  mutation PrepareForCard($amount: Int!, $version: PortOneVersion!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, version: $version, gateway: $gateway) { merchantUid amount }\n  }\n": typeof types.PrepareForCardDocument,
    "\n  mutation DeleteCard($id: ID!) { deletePaymentCard(paymentCardId: $id) }\n": typeof types.DeleteCardDocument,
    "\n  mutation ChargeWithCard($cardId: ID!, $merchantUid: String!) {\n    createPointTransactionOfLoadingWithCard(paymentCardId: $cardId, merchantUid: $merchantUid) { _id amount balance }\n  }\n": typeof types.ChargeWithCardDocument,
    "\n  fragment SubscriptionFields on PointSubscription {\n    _id amount status billingDay nextChargeAt lastChargedAt lastFailureReason createdAt cancelledAt\n    paymentCard { _id cardName cardNumber }\n  }\n": typeof types.SubscriptionFieldsFragmentDoc,
    "\n  query PointSubscriptions { fetchPointSubscriptions { ...SubscriptionFields } }\n": typeof types.PointSubscriptionsDocument,
    "\n  mutation Subscribe($cardId: ID!, $amount: Int!) {\n    createPointSubscription(paymentCardId: $cardId, amount: $amount) { ...SubscriptionFields }\n  }\n": typeof types.SubscribeDocument,
    "\n  mutation CancelSubscription($id: ID!) { cancelPointSubscription(pointSubscriptionId: $id) { ...SubscriptionFields } }\n": typeof types.CancelSubscriptionDocument,
};
const documents: Documents = {
    "\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount gateways bootpayApplicationId storeId }\n  }\n": types.PointChargeConfigDocument,
    "\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n": types.MeDocument,
    "\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id gateway merchantUid impUid receiptId amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n": types.ChargeOrdersDocument,
    "\n  fragment HistoryEntry on PointTransaction { _id gateway impUid amount balance status statusDetail createdAt }\n": types.HistoryEntryFragmentDoc,
    "\n  query HistoryAll($page: Int!) { fetchPointTransactions(page: $page) { ...HistoryEntry } }\n": types.HistoryAllDocument,
    "\n  query HistoryLoading($page: Int!) { fetchPointTransactionsOfLoading(page: $page) { ...HistoryEntry } }\n": types.HistoryLoadingDocument,
    "\n  query HistoryBuying($page: Int!) { fetchPointTransactionsOfBuying(page: $page) { ...HistoryEntry } }\n": types.HistoryBuyingDocument,
    "\n  query HistorySelling($page: Int!) { fetchPointTransactionsOfSelling(page: $page) { ...HistoryEntry } }\n": types.HistorySellingDocument,
    "\n  query HistoryCounts {\n    fetchPointTransactionsCountOfLoading\n    fetchPointTransactionsCountOfBuying\n    fetchPointTransactionsCountOfSelling\n  }\n": types.HistoryCountsDocument,
    "\n  mutation SignUp($input: CreateUserInput!) { createUser(createUserInput: $input) { _id } }\n": types.SignUpDocument,
    "\n  mutation Login($email: String!, $password: String!) { loginUser(email: $email, password: $password) { accessToken } }\n": types.LoginDocument,
    "\n  mutation Restore { restoreAccessToken { accessToken } }\n": types.RestoreDocument,
    "\n  mutation Logout { logoutUser }\n": types.LogoutDocument,
    "\n  mutation Prepare($amount: Int!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, gateway: $gateway) { merchantUid amount gateway }\n  }\n": types.PrepareDocument,
    "\n  mutation Charge($impUid: ID, $receiptId: ID) {\n    createPointTransactionOfLoading(impUid: $impUid, receiptId: $receiptId) { _id amount balance }\n  }\n": types.ChargeDocument,
    "\n  mutation Cancel($impUid: ID, $receiptId: ID, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, receiptId: $receiptId, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n": types.CancelDocument,
    "\n  query FileConfig { fetchFileConfig { publicBase maxBytes } }\n": types.FileConfigDocument,
    "\n  query Items($page: Int) {\n    fetchUseditems(page: $page) { _id name remarks price images soldAt seller { _id name } }\n  }\n": types.ItemsDocument,
    "\n  query Item($id: ID!) {\n    fetchUseditem(useditemId: $id) {\n      _id name remarks contents price images soldAt createdAt seller { _id name } buyer { _id name }\n    }\n  }\n": types.ItemDocument,
    "\n  mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id url size } }\n": types.UploadFileDocument,
    "\n  mutation CreateItem($input: CreateUseditemInput!) { createUseditem(createUseditemInput: $input) { _id } }\n": types.CreateItemDocument,
    "\n  mutation UpdatePrice($id: ID!, $price: Int!) {\n    updateUseditem(useditemId: $id, updateUseditemInput: { price: $price }) { _id price }\n  }\n": types.UpdatePriceDocument,
    "\n  mutation Buy($id: ID!, $expectedPrice: Int) {\n    createPointTransactionOfBuyingAndSelling(useritemId: $id, expectedPrice: $expectedPrice) {\n      _id price soldAt buyer { _id name }\n    }\n  }\n": types.BuyDocument,
    "\n  query Questions($itemId: ID!) {\n    fetchUseditemQuestions(useditemId: $itemId, page: 1) { _id contents createdAt user { _id name } }\n  }\n": types.QuestionsDocument,
    "\n  query Answers($questionId: ID!) {\n    fetchUseditemQuestionAnswers(useditemQuestionId: $questionId, page: 1) { _id contents createdAt user { _id name } }\n  }\n": types.AnswersDocument,
    "\n  mutation Ask($itemId: ID!, $contents: String!) {\n    createUseditemQuestion(useditemId: $itemId, createUseditemQuestionInput: { contents: $contents }) { _id }\n  }\n": types.AskDocument,
    "\n  mutation Answer($questionId: ID!, $contents: String!) {\n    createUseditemQuestionAnswer(useditemQuestionId: $questionId, createUseditemQuestionAnswerInput: { contents: $contents }) { _id }\n  }\n": types.AnswerDocument,
    "\n  fragment CardFields on PaymentCard { _id cardName cardNumber version createdAt }\n": types.CardFieldsFragmentDoc,
    "\n  query PaymentCards { fetchPaymentCards { ...CardFields } }\n": types.PaymentCardsDocument,
    "\n  mutation PrepareCard { preparePaymentCard { customerUid customerId merchantUid pg amount name payMethod } }\n": types.PrepareCardDocument,
    "\n  mutation PrepareCardV2 {\n    preparePaymentCard(version: V2) { customerId storeId channelKey issueId issueName billingKeyMethod }\n  }\n": types.PrepareCardV2Document,
    "\n  mutation RegisterCard($customerUid: ID, $billingKey: ID) {\n    registerPaymentCard(customerUid: $customerUid, billingKey: $billingKey) { ...CardFields }\n  }\n": types.RegisterCardDocument,
    "\n  mutation PrepareForCard($amount: Int!, $version: PortOneVersion!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, version: $version, gateway: $gateway) { merchantUid amount }\n  }\n": types.PrepareForCardDocument,
    "\n  mutation DeleteCard($id: ID!) { deletePaymentCard(paymentCardId: $id) }\n": types.DeleteCardDocument,
    "\n  mutation ChargeWithCard($cardId: ID!, $merchantUid: String!) {\n    createPointTransactionOfLoadingWithCard(paymentCardId: $cardId, merchantUid: $merchantUid) { _id amount balance }\n  }\n": types.ChargeWithCardDocument,
    "\n  fragment SubscriptionFields on PointSubscription {\n    _id amount status billingDay nextChargeAt lastChargedAt lastFailureReason createdAt cancelledAt\n    paymentCard { _id cardName cardNumber }\n  }\n": types.SubscriptionFieldsFragmentDoc,
    "\n  query PointSubscriptions { fetchPointSubscriptions { ...SubscriptionFields } }\n": types.PointSubscriptionsDocument,
    "\n  mutation Subscribe($cardId: ID!, $amount: Int!) {\n    createPointSubscription(paymentCardId: $cardId, amount: $amount) { ...SubscriptionFields }\n  }\n": types.SubscribeDocument,
    "\n  mutation CancelSubscription($id: ID!) { cancelPointSubscription(pointSubscriptionId: $id) { ...SubscriptionFields } }\n": types.CancelSubscriptionDocument,
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
export function graphql(source: "\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount gateways bootpayApplicationId storeId }\n  }\n"): (typeof documents)["\n  query PointChargeConfig {\n    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount gateways bootpayApplicationId storeId }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n"): (typeof documents)["\n  query Me {\n    fetchUserLoggedIn { _id email name userPoint { _id amount } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id gateway merchantUid impUid receiptId amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n"): (typeof documents)["\n  query ChargeOrders {\n    fetchPointChargeOrders {\n      _id gateway merchantUid impUid receiptId amount paidAmount cancelledAmount status payMethod\n      virtualAccount { bankName accountNumber holder dueAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment HistoryEntry on PointTransaction { _id gateway impUid amount balance status statusDetail createdAt }\n"): (typeof documents)["\n  fragment HistoryEntry on PointTransaction { _id gateway impUid amount balance status statusDetail createdAt }\n"];
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
export function graphql(source: "\n  mutation Prepare($amount: Int!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, gateway: $gateway) { merchantUid amount gateway }\n  }\n"): (typeof documents)["\n  mutation Prepare($amount: Int!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, gateway: $gateway) { merchantUid amount gateway }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Charge($impUid: ID, $receiptId: ID) {\n    createPointTransactionOfLoading(impUid: $impUid, receiptId: $receiptId) { _id amount balance }\n  }\n"): (typeof documents)["\n  mutation Charge($impUid: ID, $receiptId: ID) {\n    createPointTransactionOfLoading(impUid: $impUid, receiptId: $receiptId) { _id amount balance }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Cancel($impUid: ID, $receiptId: ID, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, receiptId: $receiptId, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n"): (typeof documents)["\n  mutation Cancel($impUid: ID, $receiptId: ID, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {\n    cancelPointTransaction(impUid: $impUid, receiptId: $receiptId, amount: $amount, reason: $reason, refundAccount: $refundAccount) {\n      _id amount balance\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FileConfig { fetchFileConfig { publicBase maxBytes } }\n"): (typeof documents)["\n  query FileConfig { fetchFileConfig { publicBase maxBytes } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Items($page: Int) {\n    fetchUseditems(page: $page) { _id name remarks price images soldAt seller { _id name } }\n  }\n"): (typeof documents)["\n  query Items($page: Int) {\n    fetchUseditems(page: $page) { _id name remarks price images soldAt seller { _id name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Item($id: ID!) {\n    fetchUseditem(useditemId: $id) {\n      _id name remarks contents price images soldAt createdAt seller { _id name } buyer { _id name }\n    }\n  }\n"): (typeof documents)["\n  query Item($id: ID!) {\n    fetchUseditem(useditemId: $id) {\n      _id name remarks contents price images soldAt createdAt seller { _id name } buyer { _id name }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id url size } }\n"): (typeof documents)["\n  mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id url size } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateItem($input: CreateUseditemInput!) { createUseditem(createUseditemInput: $input) { _id } }\n"): (typeof documents)["\n  mutation CreateItem($input: CreateUseditemInput!) { createUseditem(createUseditemInput: $input) { _id } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdatePrice($id: ID!, $price: Int!) {\n    updateUseditem(useditemId: $id, updateUseditemInput: { price: $price }) { _id price }\n  }\n"): (typeof documents)["\n  mutation UpdatePrice($id: ID!, $price: Int!) {\n    updateUseditem(useditemId: $id, updateUseditemInput: { price: $price }) { _id price }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Buy($id: ID!, $expectedPrice: Int) {\n    createPointTransactionOfBuyingAndSelling(useritemId: $id, expectedPrice: $expectedPrice) {\n      _id price soldAt buyer { _id name }\n    }\n  }\n"): (typeof documents)["\n  mutation Buy($id: ID!, $expectedPrice: Int) {\n    createPointTransactionOfBuyingAndSelling(useritemId: $id, expectedPrice: $expectedPrice) {\n      _id price soldAt buyer { _id name }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Questions($itemId: ID!) {\n    fetchUseditemQuestions(useditemId: $itemId, page: 1) { _id contents createdAt user { _id name } }\n  }\n"): (typeof documents)["\n  query Questions($itemId: ID!) {\n    fetchUseditemQuestions(useditemId: $itemId, page: 1) { _id contents createdAt user { _id name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Answers($questionId: ID!) {\n    fetchUseditemQuestionAnswers(useditemQuestionId: $questionId, page: 1) { _id contents createdAt user { _id name } }\n  }\n"): (typeof documents)["\n  query Answers($questionId: ID!) {\n    fetchUseditemQuestionAnswers(useditemQuestionId: $questionId, page: 1) { _id contents createdAt user { _id name } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Ask($itemId: ID!, $contents: String!) {\n    createUseditemQuestion(useditemId: $itemId, createUseditemQuestionInput: { contents: $contents }) { _id }\n  }\n"): (typeof documents)["\n  mutation Ask($itemId: ID!, $contents: String!) {\n    createUseditemQuestion(useditemId: $itemId, createUseditemQuestionInput: { contents: $contents }) { _id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Answer($questionId: ID!, $contents: String!) {\n    createUseditemQuestionAnswer(useditemQuestionId: $questionId, createUseditemQuestionAnswerInput: { contents: $contents }) { _id }\n  }\n"): (typeof documents)["\n  mutation Answer($questionId: ID!, $contents: String!) {\n    createUseditemQuestionAnswer(useditemQuestionId: $questionId, createUseditemQuestionAnswerInput: { contents: $contents }) { _id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CardFields on PaymentCard { _id cardName cardNumber version createdAt }\n"): (typeof documents)["\n  fragment CardFields on PaymentCard { _id cardName cardNumber version createdAt }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PaymentCards { fetchPaymentCards { ...CardFields } }\n"): (typeof documents)["\n  query PaymentCards { fetchPaymentCards { ...CardFields } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PrepareCard { preparePaymentCard { customerUid customerId merchantUid pg amount name payMethod } }\n"): (typeof documents)["\n  mutation PrepareCard { preparePaymentCard { customerUid customerId merchantUid pg amount name payMethod } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PrepareCardV2 {\n    preparePaymentCard(version: V2) { customerId storeId channelKey issueId issueName billingKeyMethod }\n  }\n"): (typeof documents)["\n  mutation PrepareCardV2 {\n    preparePaymentCard(version: V2) { customerId storeId channelKey issueId issueName billingKeyMethod }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegisterCard($customerUid: ID, $billingKey: ID) {\n    registerPaymentCard(customerUid: $customerUid, billingKey: $billingKey) { ...CardFields }\n  }\n"): (typeof documents)["\n  mutation RegisterCard($customerUid: ID, $billingKey: ID) {\n    registerPaymentCard(customerUid: $customerUid, billingKey: $billingKey) { ...CardFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PrepareForCard($amount: Int!, $version: PortOneVersion!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, version: $version, gateway: $gateway) { merchantUid amount }\n  }\n"): (typeof documents)["\n  mutation PrepareForCard($amount: Int!, $version: PortOneVersion!, $gateway: PaymentGateway!) {\n    preparePointCharge(amount: $amount, version: $version, gateway: $gateway) { merchantUid amount }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteCard($id: ID!) { deletePaymentCard(paymentCardId: $id) }\n"): (typeof documents)["\n  mutation DeleteCard($id: ID!) { deletePaymentCard(paymentCardId: $id) }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChargeWithCard($cardId: ID!, $merchantUid: String!) {\n    createPointTransactionOfLoadingWithCard(paymentCardId: $cardId, merchantUid: $merchantUid) { _id amount balance }\n  }\n"): (typeof documents)["\n  mutation ChargeWithCard($cardId: ID!, $merchantUid: String!) {\n    createPointTransactionOfLoadingWithCard(paymentCardId: $cardId, merchantUid: $merchantUid) { _id amount balance }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment SubscriptionFields on PointSubscription {\n    _id amount status billingDay nextChargeAt lastChargedAt lastFailureReason createdAt cancelledAt\n    paymentCard { _id cardName cardNumber }\n  }\n"): (typeof documents)["\n  fragment SubscriptionFields on PointSubscription {\n    _id amount status billingDay nextChargeAt lastChargedAt lastFailureReason createdAt cancelledAt\n    paymentCard { _id cardName cardNumber }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PointSubscriptions { fetchPointSubscriptions { ...SubscriptionFields } }\n"): (typeof documents)["\n  query PointSubscriptions { fetchPointSubscriptions { ...SubscriptionFields } }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Subscribe($cardId: ID!, $amount: Int!) {\n    createPointSubscription(paymentCardId: $cardId, amount: $amount) { ...SubscriptionFields }\n  }\n"): (typeof documents)["\n  mutation Subscribe($cardId: ID!, $amount: Int!) {\n    createPointSubscription(paymentCardId: $cardId, amount: $amount) { ...SubscriptionFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelSubscription($id: ID!) { cancelPointSubscription(pointSubscriptionId: $id) { ...SubscriptionFields } }\n"): (typeof documents)["\n  mutation CancelSubscription($id: ID!) { cancelPointSubscription(pointSubscriptionId: $id) { ...SubscriptionFields } }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;