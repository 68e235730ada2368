// The test/k8s harness: a real kube-apiserver + etcd per test file. See docs/testing-k8s.md.
export {
  startApiServer,
  users,
  serviceClusterIpRange,
  KubectlError,
  ApiServerStartError,
  type ApiServer,
  type KubectlOptions,
  type KubectlResult,
  type StartApiServerOptions,
  type User,
} from './apiserver.ts';
export { resolveAssets, AssetsError, type Assets } from './assets.ts';
