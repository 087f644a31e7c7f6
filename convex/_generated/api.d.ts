/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as chatMessages from "../chatMessages.js";
import type * as chatSessions from "../chatSessions.js";
import type * as lib_auth from "../lib/auth.js";
import type * as lib_checks from "../lib/checks.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_limits from "../lib/limits.js";
import type * as lib_pagination from "../lib/pagination.js";
import type * as lib_search from "../lib/search.js";
import type * as lib_sessions from "../lib/sessions.js";
import type * as lib_statusMachine from "../lib/statusMachine.js";
import type * as lib_text from "../lib/text.js";
import type * as lib_validators from "../lib/validators.js";
import type * as lib_workOrders from "../lib/workOrders.js";
import type * as search from "../search.js";
import type * as workOrderEvents from "../workOrderEvents.js";
import type * as workOrders from "../workOrders.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  chatMessages: typeof chatMessages;
  chatSessions: typeof chatSessions;
  "lib/auth": typeof lib_auth;
  "lib/checks": typeof lib_checks;
  "lib/errors": typeof lib_errors;
  "lib/limits": typeof lib_limits;
  "lib/pagination": typeof lib_pagination;
  "lib/search": typeof lib_search;
  "lib/sessions": typeof lib_sessions;
  "lib/statusMachine": typeof lib_statusMachine;
  "lib/text": typeof lib_text;
  "lib/validators": typeof lib_validators;
  "lib/workOrders": typeof lib_workOrders;
  search: typeof search;
  workOrderEvents: typeof workOrderEvents;
  workOrders: typeof workOrders;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
