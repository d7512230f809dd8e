// Messages about files and problems; errors stay until dismissed, information fades.
import { useEffect } from 'react';
import { useStore } from '../store/store.ts';
import { dismissNotice } from '../store/actions.ts';

export function Notices() {
  const notices = useStore((s) => s.notices);
  useEffect(() => {
    const timers = notices.filter((n) => n.level === 'info').map((n) => setTimeout(() => dismissNotice(n.id), 6000));
    return () => timers.forEach(clearTimeout);
  }, [notices]);
  if (notices.length === 0) return null;
  return (
    <div className="notices" role="log" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.level}`} role={n.level === 'error' ? 'alert' : 'status'} data-testid={`notice-${n.level}`}>
          <span className="notice-text">{n.message}</span>
          <button className="notice-close" aria-label="Dismiss" onClick={() => dismissNotice(n.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
