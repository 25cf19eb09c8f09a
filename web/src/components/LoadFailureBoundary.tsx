import { Component, type ReactNode } from 'react';

interface LoadFailureBoundaryProps {
  /** Shown instead of the children once they fail. */
  fallback: ReactNode;
  children: ReactNode;
}

/**
 * Keeps a failure in one part of the page inside that part. A code-split part fails to
 * load when its file is gone (a deploy replaced the build this page came from) or the
 * network drops; without a boundary React would unmount the whole page.
 */
export class LoadFailureBoundary extends Component<LoadFailureBoundaryProps, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  override render() {
    return this.state.failed ? this.props.fallback : this.props.children;
  }
}

/** A failed part's message; only a reload fetches the page's current build. */
export const reloadPage = () => window.location.reload();
