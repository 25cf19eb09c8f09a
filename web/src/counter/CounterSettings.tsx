import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import { useState } from 'react';
import { ResetDialog } from './ResetDialog.js';

interface CounterSettingsProps {
  /** The Settings button while the menu is open, null while it is closed. */
  anchor: HTMLElement | null;
  onCloseMenu: () => void;
  onReset: (counter: number) => void;
}

/** The counter's Settings menu and the Reset confirmation it opens. */
export function CounterSettings({ anchor, onCloseMenu, onReset }: CounterSettingsProps) {
  const [resetOpen, setResetOpen] = useState(false);
  return (
    <>
      <Menu id="counter-settings" anchorEl={anchor} open={anchor !== null} onClose={onCloseMenu}>
        <MenuItem
          onClick={() => {
            onCloseMenu();
            setResetOpen(true);
          }}
        >
          Reset stock…
        </MenuItem>
      </Menu>
      <ResetDialog open={resetOpen} onClose={() => setResetOpen(false)} onReset={onReset} />
    </>
  );
}
