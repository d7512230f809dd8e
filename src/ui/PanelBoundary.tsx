// A React error boundary per panel: a bug while drawing one panel shows a message in its place (and in the
// notices) instead of blanking the page; the store, and with it every loaded volume and trained model, is untouched.
import { Component, type ReactNode } from 'react';
import { notify } from '../store/actions.ts';

interface Props { name: string; children: ReactNode }
interface State { error: Error | null }

export class PanelBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error) {
    notify('error', `The ${this.props.name} panel failed to draw: ${error.message}. Your data and models are kept; Retry redraws it.`);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <section className="panel panel-error" role="alert" data-testid="panel-error">
        <h2>{this.props.name}</h2>
        <p>This panel failed to draw: {this.state.error.message}</p>
        <button onClick={() => this.setState({ error: null })}>Retry</button>
      </section>
    );
  }
}
