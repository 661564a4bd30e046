/**
 * Billing subjects an operator manages (hub/edges/subject-routes.ts): IP groups with a preview of what
 * a prefix list matches, and the interfaces of each exporter with their names and selection.
 * Used by web/pages/subjects.js.
 */

/** An IP group as stored: canonical prefixes and ranges ("192.0.2.0/24", "192.0.2.10-192.0.2.20"). */
export interface IpGroupView {
  name: string;
  prefixes: string[];
}

/** GET /api/v1/operators/:op/ip-groups */
export interface IpGroupsResponse {
  ipGroups: IpGroupView[];
}

/** POST /api/v1/operators/:op/ip-groups/preview: the entries as typed; name = the group being edited (left out of overlaps). */
export interface IpGroupPreviewRequest {
  name?: string;
  prefixes: string[];
}

/** One entry as the hub's grammar (common/ip-prefix.ts) reads it: its canonical text, or why it is refused. */
export interface IpGroupEntryCheck {
  input: string;
  canonical?: string;
  error?: string;
}

/** An entry that covers addresses another group (or another entry of this one) covers too. */
export interface IpGroupOverlap {
  entry: string;
  /** The other group; the edited group's own name for an overlap within its list. */
  group: string;
  groupEntry: string;
}

/** A recent top talker address (live flows) the entries would match. */
export interface IpGroupMatchedAddress {
  address: string;
  bitsPerSec: number;
  /** Groups that hold it today, if any. */
  currentGroups: string[];
}

export interface IpGroupPreviewResponse {
  entries: IpGroupEntryCheck[];
  /** All entries valid: the list can be saved as is. */
  valid: boolean;
  overlaps: IpGroupOverlap[];
  matchedAddresses: IpGroupMatchedAddress[];
  /** How many distinct live-flow addresses were looked at (0: no live flows now). */
  addressesLookedAt: number;
}

/** One interface of an exporter as the Subjects page shows it. */
export interface InterfaceView {
  ifIndex: number;
  /** What the page shows: the operator's name, else the exporter's ifName, else its ifDescr; '' when none. */
  name: string;
  /** The operator's own name (stored on the hub), '' when none. */
  operatorName: string;
  /** ifName (IE 82) from the exporter's options data, '' when it sends none. */
  exporterName: string;
  /** ifDescr (IE 83) from the exporter's options data, '' when it sends none. */
  exporterDescription: string;
  /** A billing subject under the current selection. */
  selected: boolean;
  /** The hub holds 5-minute series for it (it had traffic). */
  hasTraffic: boolean;
  /** Billing subject id ("if:<exporter>/<ifIndex>"). */
  subjectId: string;
}

export interface ExporterInterfacesView {
  address: string;
  /** 'netflow' | 'ipfix' | 'sflow' | '' (known only from stored series or the selection). */
  protocol: string;
  /** Edges that report it now. */
  edgeNames: string[];
  interfaces: InterfaceView[];
}

/** GET /api/v1/operators/:op/interfaces */
export interface InterfacesResponse {
  /** Every interface of every exporter is billed (until the operator picks some). */
  allInterfaces: boolean;
  exporters: ExporterInterfacesView[];
}

/** PUT /api/v1/operators/:op/interface-names: name '' removes the operator's name. */
export interface InterfaceNameRequest {
  exporter: string;
  ifIndex: number;
  name: string;
}

export interface InterfaceNameResponse {
  exporter: string;
  ifIndex: number;
  name: string;
}
