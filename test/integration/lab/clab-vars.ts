// The containerlab tests' lab: its own name and management network (documentation ranges), so it runs beside a
// person's `npm run lab` (defaults in frr-lab/topology.clab.yml: berth, 203.0.113.240/28).
export const TEST_CLAB_VARS = {
  BERTH_LAB_NAME: 'berthtest',
  BERTH_LAB_MGMT_BRIDGE: 'br-berthtest',
  BERTH_LAB_MGMT_V4: '203.0.113.224/28',
  BERTH_LAB_MGMT_V6: '2001:db8:cafe:1::/64',
} as const;
