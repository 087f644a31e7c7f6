"""A test-only bridge to the real Convex functions under convex-test (see bridge.ts)."""
