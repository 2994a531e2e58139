import { createApp } from "vue";
import { DefaultApolloClient } from "@vue/apollo-composable";
import { client } from "./apollo";
import { router } from "./router";
import App from "./App.vue";
import "./style.css";

createApp(App).provide(DefaultApolloClient, client).use(router).mount("#app");
