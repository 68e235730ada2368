// The containerlab tests' lab name and management network (documentation ranges): beside a person's `npm run lab`.
export { TEST_LAB_VARS as TEST_CLAB_VARS } from '../../../frr-lab/clab.ts';
