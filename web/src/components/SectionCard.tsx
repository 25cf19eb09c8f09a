import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import CardHeader from '@mui/material/CardHeader';
import type { ReactNode } from 'react';

interface SectionCardProps {
  /** Names the section: its heading gets the id `<id>-title`. */
  id: string;
  title: string;
  subheader?: string;
  /** Beside the heading, e.g. a settings button. */
  action?: ReactNode;
  /** Below the content, e.g. the card's main button. */
  footer?: ReactNode;
  children: ReactNode;
}

/** One of the page's views: a card that is a landmark named by its h2 heading. */
export function SectionCard({ id, title, subheader, action, footer, children }: SectionCardProps) {
  const titleId = `${id}-title`;
  return (
    <Card component="section" aria-labelledby={titleId} sx={{ height: '100%' }}>
      <CardHeader
        title={title}
        subheader={subheader}
        action={action}
        slotProps={{ title: { id: titleId, component: 'h2', variant: 'h6' } }}
      />
      <CardContent>{children}</CardContent>
      {footer}
    </Card>
  );
}
