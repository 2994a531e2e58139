// Every GraphQL operation of the app, typed by GraphQL Code Generator (`npm run codegen`).
import { graphql } from "./gql";

// The cheapest answer: is the API reachable again (connection.ts)?
export const PING = graphql(`
  query Ping { __typename }
`);

export const CONFIG = graphql(`
  query PointChargeConfig {
    fetchPointChargeConfig { merchantCode pg testMode packages minAmount maxAmount gateways bootpayApplicationId storeId }
  }
`);

export const ME = graphql(`
  query Me {
    fetchUserLoggedIn { _id email name userPoint { _id amount } }
  }
`);

export const ORDERS = graphql(`
  query ChargeOrders {
    fetchPointChargeOrders {
      _id gateway merchantUid impUid receiptId amount paidAmount cancelledAmount status payMethod
      virtualAccount { bankName accountNumber holder dueAt }
    }
  }
`);

export const HISTORY_ENTRY = graphql(`
  fragment HistoryEntry on PointTransaction { _id gateway impUid amount balance status statusDetail createdAt }
`);

export const HISTORY_ALL = graphql(`
  query HistoryAll($page: Int!) { fetchPointTransactions(page: $page) { ...HistoryEntry } }
`);
export const HISTORY_LOADING = graphql(`
  query HistoryLoading($page: Int!) { fetchPointTransactionsOfLoading(page: $page) { ...HistoryEntry } }
`);
export const HISTORY_BUYING = graphql(`
  query HistoryBuying($page: Int!) { fetchPointTransactionsOfBuying(page: $page) { ...HistoryEntry } }
`);
export const HISTORY_SELLING = graphql(`
  query HistorySelling($page: Int!) { fetchPointTransactionsOfSelling(page: $page) { ...HistoryEntry } }
`);
export const HISTORY_COUNTS = graphql(`
  query HistoryCounts {
    fetchPointTransactionsCountOfLoading
    fetchPointTransactionsCountOfBuying
    fetchPointTransactionsCountOfSelling
  }
`);

export const SIGN_UP = graphql(`
  mutation SignUp($input: CreateUserInput!) { createUser(createUserInput: $input) { _id } }
`);
export const LOGIN = graphql(`
  mutation Login($email: String!, $password: String!) { loginUser(email: $email, password: $password) { accessToken } }
`);
export const RESTORE = graphql(`
  mutation Restore { restoreAccessToken { accessToken } }
`);
export const LOGOUT = graphql(`
  mutation Logout { logoutUser }
`);

export const PREPARE = graphql(`
  mutation Prepare($amount: Int!, $gateway: PaymentGateway!) {
    preparePointCharge(amount: $amount, gateway: $gateway) { merchantUid amount gateway }
  }
`);
// impUid for a PortOne payment, receiptId for a Bootpay one.
export const CHARGE = graphql(`
  mutation Charge($impUid: ID, $receiptId: ID) {
    createPointTransactionOfLoading(impUid: $impUid, receiptId: $receiptId) { _id amount balance }
  }
`);
// impUid or receiptId as for CHARGE; amount omitted cancels what is left; refundAccount only for a
// deposited virtual account.
export const CANCEL = graphql(`
  mutation Cancel($impUid: ID, $receiptId: ID, $amount: Int, $reason: String, $refundAccount: RefundAccountInput) {
    cancelPointTransaction(impUid: $impUid, receiptId: $receiptId, amount: $amount, reason: $reason, refundAccount: $refundAccount) {
      _id amount balance
    }
  }
`);

// --- the market (상점): items, photos, questions and answers
export const FILE_CONFIG = graphql(`
  query FileConfig { fetchFileConfig { publicBase maxBytes } }
`);
export const ITEMS = graphql(`
  query Items($page: Int) {
    fetchUseditems(page: $page) { _id name remarks price images soldAt seller { _id name } }
  }
`);
export const ITEM = graphql(`
  query Item($id: ID!) {
    fetchUseditem(useditemId: $id) {
      _id name remarks contents price images soldAt createdAt seller { _id name } buyer { _id name }
    }
  }
`);
export const UPLOAD_FILE = graphql(`
  mutation UploadFile($file: Upload!) { uploadFile(file: $file) { _id url size } }
`);
export const CREATE_ITEM = graphql(`
  mutation CreateItem($input: CreateUseditemInput!) { createUseditem(createUseditemInput: $input) { _id } }
`);
export const UPDATE_PRICE = graphql(`
  mutation UpdatePrice($id: ID!, $price: Int!) {
    updateUseditem(useditemId: $id, updateUseditemInput: { price: $price }) { _id price }
  }
`);
// expectedPrice: the price the buyer saw; another price answers PRICE_CHANGED and nothing moves.
export const BUY = graphql(`
  mutation Buy($id: ID!, $expectedPrice: Int) {
    createPointTransactionOfBuyingAndSelling(useritemId: $id, expectedPrice: $expectedPrice) {
      _id price soldAt buyer { _id name }
    }
  }
`);
export const QUESTIONS = graphql(`
  query Questions($itemId: ID!) {
    fetchUseditemQuestions(useditemId: $itemId, page: 1) { _id contents createdAt user { _id name } }
  }
`);
export const ANSWERS = graphql(`
  query Answers($questionId: ID!) {
    fetchUseditemQuestionAnswers(useditemQuestionId: $questionId, page: 1) { _id contents createdAt user { _id name } }
  }
`);
export const ASK = graphql(`
  mutation Ask($itemId: ID!, $contents: String!) {
    createUseditemQuestion(useditemId: $itemId, createUseditemQuestionInput: { contents: $contents }) { _id }
  }
`);
export const ANSWER = graphql(`
  mutation Answer($questionId: ID!, $contents: String!) {
    createUseditemQuestionAnswer(useditemQuestionId: $questionId, createUseditemQuestionAnswerInput: { contents: $contents }) { _id }
  }
`);

// --- 카드 / 정기 충전 (saved cards: billing keys)
export const CARD_FIELDS = graphql(`
  fragment CardFields on PaymentCard { _id cardName cardNumber version createdAt }
`);
export const CARDS = graphql(`
  query PaymentCards { fetchPaymentCards { ...CardFields } }
`);
// What IMP.request_pay({customer_uid, amount: 0, …}) needs to issue a billing key for this user.
export const PREPARE_CARD = graphql(`
  mutation PrepareCard { preparePaymentCard { customerUid customerId merchantUid pg amount name payMethod } }
`);
// V2: what PortOne.requestIssueBillingKey needs; the server binds the key it issues by issueId.
export const PREPARE_CARD_V2 = graphql(`
  mutation PrepareCardV2 {
    preparePaymentCard(version: V2) { customerId storeId channelKey issueId issueName billingKeyMethod }
  }
`);
// customerUid (V1) or billingKey (V2).
export const REGISTER_CARD = graphql(`
  mutation RegisterCard($customerUid: ID, $billingKey: ID) {
    registerPaymentCard(customerUid: $customerUid, billingKey: $billingKey) { ...CardFields }
  }
`);
// A one-click charge's order, on the card's gateway and PortOne version (a V2 card pays a V2 paymentId).
export const PREPARE_FOR_CARD = graphql(`
  mutation PrepareForCard($amount: Int!, $version: PortOneVersion!, $gateway: PaymentGateway!) {
    preparePointCharge(amount: $amount, version: $version, gateway: $gateway) { merchantUid amount }
  }
`);
export const DELETE_CARD = graphql(`
  mutation DeleteCard($id: ID!) { deletePaymentCard(paymentCardId: $id) }
`);
// The order (preparePointCharge) is the idempotency key: a second call charges nothing more.
export const CHARGE_WITH_CARD = graphql(`
  mutation ChargeWithCard($cardId: ID!, $merchantUid: String!) {
    createPointTransactionOfLoadingWithCard(paymentCardId: $cardId, merchantUid: $merchantUid) { _id amount balance }
  }
`);
export const SUBSCRIPTION_FIELDS = graphql(`
  fragment SubscriptionFields on PointSubscription {
    _id amount status billingDay nextChargeAt lastChargedAt lastFailureReason createdAt cancelledAt
    paymentCard { _id cardName cardNumber }
  }
`);
export const SUBSCRIPTIONS = graphql(`
  query PointSubscriptions { fetchPointSubscriptions { ...SubscriptionFields } }
`);
// Charges the first month now; a decline is CARD_DECLINED and leaves no live subscription.
export const SUBSCRIBE = graphql(`
  mutation Subscribe($cardId: ID!, $amount: Int!) {
    createPointSubscription(paymentCardId: $cardId, amount: $amount) { ...SubscriptionFields }
  }
`);
export const CANCEL_SUBSCRIPTION = graphql(`
  mutation CancelSubscription($id: ID!) { cancelPointSubscription(pointSubscriptionId: $id) { ...SubscriptionFields } }
`);
