import { createRouter, createWebHistory } from "vue-router";
import HomePage from "./components/HomePage.vue";
import PaymentResult from "./components/PaymentResult.vue";
import MarketPage from "./components/MarketPage.vue";
import ItemPage from "./components/ItemPage.vue";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    // Back from the mobile redirect (m_redirect_url → the API's /payments/complete → here).
    { path: "/payments/result", component: PaymentResult },
    { path: "/market", component: MarketPage },
    { path: "/market/:id", component: ItemPage, props: true },
    { path: "/:rest(.*)*", component: HomePage },
  ],
});
