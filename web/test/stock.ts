import { screen, waitFor } from '@testing-library/react';
import { expect } from 'vitest';

/**
 * Waits until the counter card's stock reads exactly this, e.g. "12 cameras left".
 * `hidden`: the card is behind an open modal dialog, which takes the page out of the
 * accessibility tree.
 */
export async function expectStock(text: string, { hidden = false } = {}): Promise<void> {
  // The number and the words are two paragraphs, so the text has no space between them.
  const [count = '', words = ''] = text.split(/ (.*)/);
  await waitFor(() =>
    expect(screen.getByRole('status', { hidden })).toHaveTextContent(
      new RegExp(`^${count}\\s*${words}$`),
    ),
  );
}
