import ipaddr from 'ipaddr.js';

export interface SnippetOptions {
  /** The edge's address as the routers reach it. */
  edgeIp: string;
  udpPort: number;
}

/**
 * Ready-to-paste exporter configs pointing at the edge. Common choices, with why:
 * - active timeout 60 s: long flows are exported at least once a minute, so 5-minute buckets get their
 *   bytes in the right bucket (the default on Cisco is 30 min, on MikroTik 30 min);
 * - template refresh every 60 s: after an edge restart, data waits at most a minute for its template
 *   (RFC 7011 §8.1 / RFC 3954 §5: collectors cannot decode data before its template);
 * - option templates for interfaces and sampling, so the hub can name interfaces and scale sampled counts.
 * Interface names are placeholders in angle brackets.
 */
export function renderExporterSnippets(o: SnippetOptions): string {
  const ip = parseEdgeIp(o.edgeIp);
  const { udpPort: port } = o;
  return [cisco(ip, port), juniper(ip, port), mikrotik(ip, port)].join('\n');
}

export function parseEdgeIp(text: string): string {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text).toString();
  throw new Error(`--edge-ip: "${text}" is not an IPv4 or IPv6 address`);
}

function cisco(ip: string, port: number): string {
  return `! ===== Cisco IOS / IOS-XE: Flexible NetFlow, NetFlow v9 -> flowbill edge ${ip} port ${port} =====
flow record FLOWBILL-V4
 match ipv4 source address
 match ipv4 destination address
 match ipv4 protocol
 match transport source-port
 match transport destination-port
 match interface input
 collect interface output
 collect counter bytes long
 collect counter packets long
 collect timestamp sys-uptime first
 collect timestamp sys-uptime last
!
flow record FLOWBILL-V6
 match ipv6 source address
 match ipv6 destination address
 match ipv6 protocol
 match transport source-port
 match transport destination-port
 match interface input
 collect interface output
 collect counter bytes long
 collect counter packets long
 collect timestamp sys-uptime first
 collect timestamp sys-uptime last
!
flow exporter FLOWBILL
 description flowbill edge
 destination ${ip}
 source <Loopback0>
 transport udp ${port}
 export-protocol netflow-v9
 template data timeout 60
 option interface-table
 option sampler-table
!
flow monitor FLOWBILL-V4
 exporter FLOWBILL
 record FLOWBILL-V4
 cache timeout active 60
 cache timeout inactive 15
!
flow monitor FLOWBILL-V6
 exporter FLOWBILL
 record FLOWBILL-V6
 cache timeout active 60
 cache timeout inactive 15
!
interface <GigabitEthernet0/0/0>
 ip flow monitor FLOWBILL-V4 input
 ip flow monitor FLOWBILL-V4 output
 ipv6 flow monitor FLOWBILL-V6 input
 ipv6 flow monitor FLOWBILL-V6 output
!
`;
}

function juniper(ip: string, port: number): string {
  const p = 'set forwarding-options sampling instance FLOWBILL';
  return `# ===== Juniper MX (Junos): inline J-Flow, IPFIX -> flowbill edge ${ip} port ${port} =====
# Sampling rate 1 = every packet (billing); if you raise it, the edge scales counts by the exported rate.
set chassis fpc <0> sampling-instance FLOWBILL
set services flow-monitoring version-ipfix template FLOWBILL-V4 flow-active-timeout 60
set services flow-monitoring version-ipfix template FLOWBILL-V4 flow-inactive-timeout 15
set services flow-monitoring version-ipfix template FLOWBILL-V4 template-refresh-rate seconds 60
set services flow-monitoring version-ipfix template FLOWBILL-V4 option-refresh-rate seconds 60
set services flow-monitoring version-ipfix template FLOWBILL-V4 ipv4-template
set services flow-monitoring version-ipfix template FLOWBILL-V6 flow-active-timeout 60
set services flow-monitoring version-ipfix template FLOWBILL-V6 flow-inactive-timeout 15
set services flow-monitoring version-ipfix template FLOWBILL-V6 template-refresh-rate seconds 60
set services flow-monitoring version-ipfix template FLOWBILL-V6 option-refresh-rate seconds 60
set services flow-monitoring version-ipfix template FLOWBILL-V6 ipv6-template
${p} input rate 1
${p} family inet output flow-server ${ip} port ${port}
${p} family inet output flow-server ${ip} version-ipfix template FLOWBILL-V4
${p} family inet output inline-jflow source-address <router-source-ip>
${p} family inet6 output flow-server ${ip} port ${port}
${p} family inet6 output flow-server ${ip} version-ipfix template FLOWBILL-V6
${p} family inet6 output inline-jflow source-address <router-source-ip>
set interfaces <xe-0/0/0> unit <0> family inet sampling input
set interfaces <xe-0/0/0> unit <0> family inet sampling output
set interfaces <xe-0/0/0> unit <0> family inet6 sampling input
set interfaces <xe-0/0/0> unit <0> family inet6 sampling output
commit check
`;
}

function mikrotik(ip: string, port: number): string {
  return `# ===== MikroTik RouterOS: traffic-flow, IPFIX (or NetFlow v9) -> flowbill edge ${ip} port ${port} =====
/ip traffic-flow
set enabled=yes interfaces=all active-flow-timeout=1m inactive-flow-timeout=15s packet-sampling=no
/ip traffic-flow target
add dst-address=${ip} port=${port} version=ipfix v9-template-refresh=20 v9-template-timeout=1m
# for NetFlow v9 instead: add dst-address=${ip} port=${port} version=9 v9-template-refresh=20 v9-template-timeout=1m
`;
}
