/* placeholder: stats */
