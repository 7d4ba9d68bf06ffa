"""Every number shown or exported, each with its formula."""
