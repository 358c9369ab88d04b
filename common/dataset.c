/* placeholder: dataset */
