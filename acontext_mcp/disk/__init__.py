"""Named disks: files under <home>/disks/<name>, confined paths, metadata rows, glob and grep."""
