# install, uninstall, pkg-config, man page (see issue 6)
