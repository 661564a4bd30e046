import { HUB_SUBSCRIPTIONS } from '../ingest/message-dispatcher';

/**
 * The hub's filters with an external broker: summaries through the shared subscription
 * `$share/<group>/flowbill/v1/+/+/summaries`, so each batch reaches ONE hub of the group (the broker
 * deals them round robin); status and live stay plain subscriptions, so every hub keeps every edge's
 * status and live flows (retained status reaches each hub when it subscribes). Messages arrive on their
 * own topic, without the `$share/<group>/` prefix. The embedded aedes has no shared subscriptions: it
 * uses HUB_SUBSCRIPTIONS as they are.
 */
export function sharedHubSubscriptions(shareGroup: string): string[] {
  return HUB_SUBSCRIPTIONS.map((filter) => (filter.endsWith('/summaries') ? `$share/${shareGroup}/${filter}` : filter));
}
