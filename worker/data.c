/* placeholder: data */
