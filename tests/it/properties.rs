//! Property tests over generated workspaces: quotas, sums and determinism.
