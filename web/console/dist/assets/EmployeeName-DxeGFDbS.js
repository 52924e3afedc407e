import{Q as e}from"./index-BuiVAhMh.js";import{a as r}from"./directory-C8VZ6EIu.js";function a({id:m}){return e.jsx(e.Fragment,{children:r(m)})}export{a as E};
