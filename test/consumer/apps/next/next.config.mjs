// Nothing for ai-imagegen: no transpilePackages, no externals. The root is pinned because the app
// sits in a cache folder that may have other lockfiles above it.
export default { turbopack: { root: import.meta.dirname }, outputFileTracingRoot: import.meta.dirname };
